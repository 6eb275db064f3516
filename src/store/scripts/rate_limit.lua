-- One request against a rate limit (GCRA): at most ARGV[2] at once, then one
-- every ARGV[1] microseconds. Time is Redis's own, so every instance shares
-- one clock. KEYS[1] the limiter's state (its theoretical arrival time).
-- Returns 0 when allowed (and counted), else the microseconds until it would be.
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
  tat = now
end
local new_tat = tat + interval
local over = new_tat - now - interval * burst
if over > 0 then
  return math.ceil(over)
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return 0
