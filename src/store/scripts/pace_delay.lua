-- A campaign's dial goes out later than the pace slot it claimed (it waited
-- for the account's slot): the campaign's next slot moves with it, so the dials
-- after it keep their spacing from when it really goes out. Refused when another
-- dial of the campaign was claimed since: that one may already be too close.
-- KEYS[1] campaign hash
-- ARGV[1] the slot claimed (ms, as admit.lua returned it)  ARGV[2] spacing ms
-- ARGV[3] when the dial now goes out (ms)
-- Returns 1 when moved, 0 when refused.
local nxt = tonumber(redis.call('HGET', KEYS[1], 'pace_next') or '0')
local spacing = tonumber(ARGV[2])
-- Our claim left pace_next at most the claimed slot plus one spacing; a later
-- claim would have moved it a whole spacing further.
if nxt > tonumber(ARGV[1]) + spacing + 0.001 then
  return 0
end
local moved = tonumber(ARGV[3]) + spacing
if moved > nxt then
  redis.call('HSET', KEYS[1], 'pace_next', string.format('%.3f', moved))
end
return 1
