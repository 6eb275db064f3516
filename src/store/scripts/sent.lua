-- The last check of a dial's pace, immediately before its request goes out:
-- records the dial at ARGV[1] in a log of dials actually sent, unless that
-- would put more than ARGV[3] of them in a window of ARGV[4] ms. Reserved
-- slots space dials evenly, but a dial can leave later than its slot (a busy
-- machine, a slow round trip) and so crowd the next one; this log holds the
-- times dials really went out, so the ceiling holds whatever happened before.
-- Re-checking the same member moves it (a dial that waited is logged once).
-- Counts and one lookup only (no scan of the window), so the check costs the
-- same at 1 and at 10,000 dials a second.
-- KEYS[1] the log (zset: member -> send time ms)
-- ARGV[1] now ms  ARGV[2] member (call id)  ARGV[3] most dials per window
-- ARGV[4] window ms
-- Returns 0 when recorded, else ms to wait before checking again.
local now = tonumber(ARGV[1])
local most = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 2 * window)
redis.call('ZREM', KEYS[1], ARGV[2])
local low = '(' .. (now - window)
local recent = redis.call('ZCOUNT', KEYS[1], low, '+inf')
if recent >= most then
  -- Enough of them must leave the window for this one to fit: the one at
  -- (recent - most) in time order is the last that has to go.
  local row = redis.call('ZRANGEBYSCORE', KEYS[1], low, '+inf', 'WITHSCORES', 'LIMIT', recent - most, 1)
  local wait = tonumber(row[2]) + window - now
  return math.max(1, math.ceil(wait))
end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(2 * window) + 60000)
return 0
