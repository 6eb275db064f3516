-- Account-wide dial pacing shared by every instance and campaign: reserves the
-- first send slot at or after ARGV[1] that keeps ARGV[2] ms after the last one
-- reserved, if it is at most ARGV[3] ms away. A slot is never placed before
-- ARGV[1]: a late caller does not make up for slots nobody used, so a late
-- timer tick can lower the rate but never raise it.
-- KEYS[1] pace key (the next free slot, epoch ms)
-- ARGV[1] earliest dial time ms  ARGV[2] spacing ms (fractional, margin included)
-- ARGV[3] max wait ms
-- Returns ms from ARGV[1] to the slot (>= 0), or -ms when no slot was reserved.
local at = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < at then
  slot = at
end
local wait = slot - at
if wait > tonumber(ARGV[3]) then
  return -math.ceil(wait)
end
-- Kept to the microsecond: spacings are fractional (33.8 ms at 30 calls/s).
redis.call('SET', KEYS[1], string.format('%.3f', slot + tonumber(ARGV[2])), 'PX', 3600000)
return math.ceil(wait)
