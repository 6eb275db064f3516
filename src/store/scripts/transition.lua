-- One call transition, atomically: idempotency check, deadline check,
-- compare-and-set on the version, record write, timeline append, callback
-- marked seen, and the side effect it owes recorded. The replies to seen
-- callbacks are fields of the call hash itself: one key to read and write,
-- and they last exactly as long as the call.
-- KEYS[1] call hash (fields v, d, fx, s:<idempotency key>)   KEYS[2] timeline list
-- ARGV[1] expected version ("0" = create)   ARGV[2] record JSON ("" = unchanged:
--   only confirm the version is current and the callback unseen)
-- ARGV[3] idempotency field ("" = none)     ARGV[4] reply to remember for it, or
--   "=timeline": the `twiml` of the last entry written now (kept once, not twice)
-- ARGV[5] deadline, epoch ms by this server's TIME ("" = none): past it nothing
--   is written, because whoever sent this has already answered without it
-- ARGV[6] side effect the write owes ("" = none), kept in field fx until
--   whoever performs it (the writer, or the reaper after a crash) clears it
-- ARGV[7..] timeline entries (JSON)
-- Returns {"ok", new_version} | {"seen", reply} | {"late"} |
--   {"conflict", current_version, current record JSON}: the caller retries from
--   that without reading it again (a stale cached version costs no extra read)
local idem = ARGV[3]
local cur = redis.call('HMGET', KEYS[1], 'v', idem ~= '' and idem or 'v')
if idem ~= '' and cur[2] then
  local prev = cur[2]
  if string.sub(prev, 1, 1) == '#' then
    local entry = redis.call('LINDEX', KEYS[2], tonumber(string.sub(prev, 2)))
    prev = entry and cjson.decode(entry).twiml or ''
  end
  return {'seen', prev}
end
-- After the seen check: a repeat of a transition that ran answers as the first
-- did, however late it comes.
if ARGV[5] ~= '' then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[5]) then
    return {'late'}
  end
end
local v = tonumber(cur[1] or '0')
if v ~= tonumber(ARGV[1]) then
  return {'conflict', tostring(v), redis.call('HGET', KEYS[1], 'd') or ''}
end
local length = 0
for i = 7, #ARGV do
  length = redis.call('RPUSH', KEYS[2], ARGV[i])
end
if ARGV[2] ~= '' then
  v = v + 1
  if idem ~= '' then
    local remember = ARGV[4]
    if remember == '=timeline' then
      remember = '#' .. (length - 1)
    end
    redis.call('HSET', KEYS[1], 'v', v, 'd', ARGV[2], idem, remember)
  else
    redis.call('HSET', KEYS[1], 'v', v, 'd', ARGV[2])
  end
  if ARGV[6] ~= '' then
    redis.call('HSET', KEYS[1], 'fx', ARGV[6])
  end
end
return {'ok', tostring(v)}
