-- Account-wide dial pacing shared by every instance: reserves the next send
-- slot if it is at most ARGV[3] ms away. A slot missed by less than half an
-- interval is still used, so late ticks do not lower the average rate.
-- KEYS[1] pace key  ARGV[1] now ms  ARGV[2] interval ms (fractional)  ARGV[3] max wait ms
-- Returns ms to wait before dialing (>= 0), or -ms when no slot was reserved.
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now and now - slot >= interval / 2 then
  slot = now
end
local wait = math.ceil(slot - now)
if wait > tonumber(ARGV[3]) then
  return -wait
end
-- Kept to the microsecond: intervals are fractional (33.333 ms at 30 calls/s).
redis.call('SET', KEYS[1], string.format('%.3f', slot + interval), 'PX', 3600000)
if wait < 0 then
  wait = 0
end
return wait
