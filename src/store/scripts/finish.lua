-- Settles one contact attempt in its shard: final, or due again for a retry.
-- Guarded by the attempt's call id, so a repeated or stale report does nothing.
-- KEYS[1] the shard's counters hash  KEYS[2] contact states  KEYS[3] due zset
-- KEYS[4] the shard's contacts waiting for a retry (set)
-- ARGV[1] contact index  ARGV[2] call id ('' = no call, e.g. skipped)
-- ARGV[3] disposition  ARGV[4] retry at ms ('' = final)  ARGV[5] new state JSON
-- Returns 'stale' | 'retry' | 'final' | 'drained' (final, and the shard has no
-- contact left: only then can the campaign be complete)
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then
  if not cur then
    return 'stale'
  end
  local st = cjson.decode(cur)
  if st.call_id ~= ARGV[2] or st.phase == 'done' or st.phase == 'pending'
      or st.phase == 'canceled' then
    return 'stale'
  end
elseif cur then
  local phase = cjson.decode(cur).phase
  if phase == 'done' or phase == 'canceled' then
    return 'stale'
  end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[3], tonumber(ARGV[4]), ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'retries', 1)
  redis.call('SADD', KEYS[4], ARGV[1])
  return 'retry'
end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'disp:' .. ARGV[3], 1)
redis.call('HINCRBY', KEYS[1], 'done', 1)
if redis.call('EXISTS', KEYS[3]) == 0 then
  return 'drained'
end
return 'final'
