-- One call transition, atomically: idempotency check, compare-and-set on the
-- version, record write, timeline append, callback marked seen.
-- KEYS[1] call hash (fields v, d)   KEYS[2] timeline list   KEYS[3] seen hash
-- ARGV[1] expected version ("0" = create)   ARGV[2] record JSON ("" = unchanged:
--   only confirm the version is current and the callback unseen)
-- ARGV[3] idempotency key ("" = none)       ARGV[4] reply to remember for it, or
--   "=timeline": the `twiml` of the last entry written now (kept once, not twice)
-- ARGV[5] seen-hash TTL seconds             ARGV[6..] timeline entries (JSON)
-- Returns {"ok", new_version} | {"seen", reply} | {"conflict", current_version}
if ARGV[3] ~= '' then
  local prev = redis.call('HGET', KEYS[3], ARGV[3])
  if prev then
    if string.sub(prev, 1, 1) == '#' then
      local entry = redis.call('LINDEX', KEYS[2], tonumber(string.sub(prev, 2)))
      prev = entry and cjson.decode(entry).twiml or ''
    end
    return {'seen', prev}
  end
end
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then
  return {'conflict', tostring(v)}
end
if ARGV[2] ~= '' then
  v = v + 1
  redis.call('HSET', KEYS[1], 'v', v, 'd', ARGV[2])
end
local length = 0
for i = 6, #ARGV do
  length = redis.call('RPUSH', KEYS[2], ARGV[i])
end
if ARGV[3] ~= '' and ARGV[2] ~= '' then
  local remember = ARGV[4]
  if remember == '=timeline' then
    remember = '#' .. (length - 1)
  end
  redis.call('HSET', KEYS[3], ARGV[3], remember)
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[5]))
end
return {'ok', tostring(v)}
