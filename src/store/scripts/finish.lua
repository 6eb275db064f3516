-- Settles one contact attempt: final, or back in the queue for a retry.
-- Guarded by the attempt's call id, so a repeated or stale report does nothing.
-- KEYS[1] campaign hash  KEYS[2] contact states  KEYS[3] due  KEYS[4] active  KEYS[5] leases
-- ARGV[1] contact index  ARGV[2] call id ('' = no call, e.g. skipped)
-- ARGV[3] disposition  ARGV[4] retry at ms ('' = final)  ARGV[5] new state JSON  ARGV[6] now (RFC 3339)
-- Returns 'stale' | 'retry' | 'final' | 'completed'
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then
  if not cur then
    return 'stale'
  end
  local st = cjson.decode(cur)
  if st.call_id ~= ARGV[2] or st.phase == 'done' or st.phase == 'pending' then
    return 'stale'
  end
elseif cur and cjson.decode(cur).phase == 'done' then
  return 'stale'
end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[3], tonumber(ARGV[4]), ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'retries', 1)
  return 'retry'
end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'disp:' .. ARGV[3], 1)
local done = redis.call('HINCRBY', KEYS[1], 'done', 1)
if done >= tonumber(redis.call('HGET', KEYS[1], 'total') or '0') then
  if redis.call('HGET', KEYS[1], 'status') == 'running' or redis.call('HGET', KEYS[1], 'status') == 'paused' then
    redis.call('HSET', KEYS[1], 'status', 'completed', 'completed_at', ARGV[6])
    return 'completed'
  end
end
return 'final'
