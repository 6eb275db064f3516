-- A campaign's admission to dial: status, concurrency and pace, which are
-- campaign-wide, in the campaign's own slot. Without ARGV[5] it only answers
-- whether a dial could start now; with it, it also takes the pace slot and the
-- lease for that contact (already taken from its shard by take.lua).
-- KEYS[1] campaign hash  KEYS[2] leases zset  KEYS[3] active zset
-- ARGV[1] now ms  ARGV[2] max concurrent  ARGV[3] interval ms (fractional)  ARGV[4] lease ms
-- ARGV[5] contact index ('' = check only)
-- Returns {tag, value}: open/0, claimed/idx, pace/ms, full/0, idle/status
local now = tonumber(ARGV[1])
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' then
  return {'idle', status or 'missing'}
end
-- An expired lease only stops counting: its contact is still in its shard's
-- due set, due again at the lease's end, and whoever takes it reconciles it.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local busy = redis.call('ZCARD', KEYS[2]) + redis.call('ZCOUNT', KEYS[3], now, '+inf')
if busy >= tonumber(ARGV[2]) then
  return {'full', '0'}
end
local interval = tonumber(ARGV[3])
local pace = tonumber(redis.call('HGET', KEYS[1], 'pace_next') or '0')
if pace > now then
  return {'pace', tostring(math.ceil(pace - now))}
end
if ARGV[5] == '' then
  return {'open', '0'}
end
-- A slot missed by less than half an interval still counts: late ticks do not
-- lower the average rate.
local base = now
if now - pace < interval / 2 then
  base = pace
end
-- Kept to the microsecond: intervals are fractional (33.333 ms at 30 calls/s).
redis.call('HSET', KEYS[1], 'pace_next', string.format('%.3f', base + interval))
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[5])
return {'claimed', ARGV[5]}
