-- A campaign's admission to dial: status, concurrency and pace, which are
-- campaign-wide, in the campaign's own slot. Without ARGV[5] it only answers
-- whether a dial could start soon; with it, it also takes the pace slot and the
-- lease for that contact (already taken from its shard by take.lua).
-- KEYS[1] campaign hash  KEYS[2] leases zset  KEYS[3] active zset
-- ARGV[1] now ms  ARGV[2] max concurrent  ARGV[3] spacing ms (fractional, margin included)
-- ARGV[4] lease ms  ARGV[5] contact index ('' = check only)
-- ARGV[6] lookahead ms: a slot at most this far ahead may be taken now (its
-- dial then waits for it), so the dial keeps its exact slot however late the
-- dispatcher's timer fires
-- Returns {tag, value[, slot]}: open/0, claimed/idx/slot ms, pace/ms, full/0, idle/status
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
local lookahead = tonumber(ARGV[6])
local pace = tonumber(redis.call('HGET', KEYS[1], 'pace_next') or '0')
if pace > now + lookahead then
  return {'pace', tostring(math.ceil(pace - now - lookahead))}
end
if ARGV[5] == '' then
  return {'open', '0'}
end
-- A slot is never before now: slots nobody used are not made up for, so a
-- late tick can lower the rate, never raise it (the limit is a ceiling).
local slot = pace
if slot < now then
  slot = now
end
-- Kept to the microsecond: spacings are fractional (33.8 ms at 30 calls/s).
redis.call('HSET', KEYS[1], 'pace_next', string.format('%.3f', slot + tonumber(ARGV[3])))
redis.call('ZADD', KEYS[2], slot + tonumber(ARGV[4]), ARGV[5])
return {'claimed', ARGV[5], tostring(math.ceil(slot))}
