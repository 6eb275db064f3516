-- The gate's Redis side for one dial, in one step so two instances (or a
-- campaign and a single call) never both take the last dial or the same
-- number at once:
-- 1. one call in progress per number: a number claimed by another call waits;
-- 2. the per-number cap: at most ARGV[3] dials in any rolling window of
--    ARGV[2] ms (service clock);
-- then, when recording, the dial is counted and the number claimed.
-- KEYS[1] sorted set of the number's dials (member: unique id, score: epoch ms)
-- KEYS[2] the number's call in progress (string: call id, with a lease)
-- ARGV[1] now ms  ARGV[2] window ms  ARGV[3] cap  ARGV[4] member, or '' to only check
-- ARGV[5] key expiry ms (real time)  ARGV[6] the dialing call's id ('' = none yet)
-- ARGV[7] lease of the claim, ms (real time)
-- Returns {1, dials in the window after this one} when allowed (and recorded if asked),
-- {0, epoch ms at which the oldest dial leaves the window} when the cap is reached,
-- or {-1, ms left on the claim} when another call holds the number.
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[6] then
  return {-1, redis.call('PTTL', KEYS[2])}
end
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= cap then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window}
end
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('SET', KEYS[2], ARGV[6], 'PX', ARGV[7])
  count = count + 1
end
return {1, count}
