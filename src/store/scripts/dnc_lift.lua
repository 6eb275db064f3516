-- Lifts a do-not-call entry only if it was added by ARGV[2] (its JSON's
-- `source`): an opt-in by text lifts an opt-out by text, never an entry from
-- the API or a voice opt-out.
-- KEYS[1] do-not-call hash  ARGV[1] number  ARGV[2] source
-- Returns 1 (lifted), 0 (kept: another source) or -1 (not listed).
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then
  return -1
end
local ok, decoded = pcall(cjson.decode, entry)
if ok and type(decoded) == 'table' and decoded['source'] == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
