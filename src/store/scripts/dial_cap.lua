-- The per-number dial cap: at most ARGV[3] dials to one number in any rolling
-- window of ARGV[2] ms (service clock), checked and recorded in one step so two
-- instances (or a campaign and a single call) never both take the last dial.
-- KEYS[1] sorted set of the number's dials (member: unique id, score: epoch ms)
-- ARGV[1] now ms  ARGV[2] window ms  ARGV[3] cap  ARGV[4] member, or '' to only check
-- ARGV[5] key expiry ms (real time)
-- Returns {1, dials in the window after this one} when allowed (and recorded if asked),
-- or {0, epoch ms at which the oldest dial leaves the window} when the cap is reached.
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
  count = count + 1
end
return {1, count}
