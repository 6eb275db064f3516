-- Claims the next due contact of a campaign for one dial, within its pace and
-- concurrency limits. Leases whose holder died go back to the queue first.
-- KEYS[1] campaign hash  KEYS[2] due zset  KEYS[3] leases zset  KEYS[4] active zset
-- ARGV[1] now ms  ARGV[2] lease ms  ARGV[3] max concurrent  ARGV[4] interval ms
-- Returns {tag, value}: claimed/idx, wait/ms, pace/ms, full/0, empty/0, idle/status
local now = tonumber(ARGV[1])
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' then
  return {'idle', status or 'missing'}
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, idx in ipairs(expired) do
  redis.call('ZREM', KEYS[3], idx)
  redis.call('ZADD', KEYS[2], now, idx)
end
local busy = redis.call('ZCARD', KEYS[3]) + redis.call('ZCOUNT', KEYS[4], now, '+inf')
if busy >= tonumber(ARGV[3]) then
  return {'full', '0'}
end
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1)
if #due == 0 then
  local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #nxt == 0 then
    return {'empty', '0'}
  end
  return {'wait', tostring(math.floor(tonumber(nxt[2]) - now))}
end
local interval = tonumber(ARGV[4])
local pace = tonumber(redis.call('HGET', KEYS[1], 'pace_next') or '0')
if pace > now then
  return {'pace', tostring(pace - now)}
end
-- A slot missed by less than half an interval still counts: late ticks do not
-- lower the average rate.
local base = now
if now - pace < interval / 2 then
  base = pace
end
redis.call('HSET', KEYS[1], 'pace_next', base + interval)
redis.call('ZREM', KEYS[2], due[1])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), due[1])
return {'claimed', due[1]}
