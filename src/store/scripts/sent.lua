-- The last check of a dial's pace, immediately before its request goes out:
-- records the dial at ARGV[1] in a log of dials actually sent, unless that
-- would put more than ARGV[3] of them in a window of ARGV[4] ms. Reserved
-- slots space dials evenly, but a dial can leave later than its slot (a busy
-- machine, a slow round trip) and so crowd the next one; this log holds the
-- times dials really went out, so the ceiling holds whatever happened before.
-- Re-checking the same member moves it (a dial that waited is logged once).
-- KEYS[1] the log (zset: member -> send time ms)
-- ARGV[1] now ms  ARGV[2] member (call id)  ARGV[3] most dials per window
-- ARGV[4] window ms
-- Returns 0 when recorded, else ms to wait before checking again.
local now = tonumber(ARGV[1])
local most = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 2 * window)
local recent = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - window), '+inf', 'WITHSCORES')
local others = {}
for i = 1, #recent, 2 do
  if recent[i] ~= ARGV[2] then
    others[#others + 1] = tonumber(recent[i + 1])
  end
end
if #others >= most then
  table.sort(others)
  -- Enough of them must leave the window for this one to fit.
  local wait = others[#others - most + 1] + window - now
  return math.max(1, math.ceil(wait))
end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(2 * window) + 60000)
return 0
