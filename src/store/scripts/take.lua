-- Takes the earliest due contact of one campaign shard by moving its due time
-- to ARGV[2]: it stays in the set, so if its taker dies it is simply due again
-- then. KEYS[1] the shard's due zset  ARGV[1] now ms  ARGV[2] hold until ms
-- Returns {'took', idx, previous due ms} | {'wait', ms} | {'empty', '0'}
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1, 'WITHSCORES')
if #due == 0 then
  local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if #nxt == 0 then
    return {'empty', '0'}
  end
  return {'wait', tostring(math.floor(tonumber(nxt[2]) - now))}
end
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), due[1])
return {'took', due[1], due[2]}
