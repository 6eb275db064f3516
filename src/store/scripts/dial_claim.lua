-- Extends the claim on a number to the call's full lease right before its
-- dial goes out (the gate's claim is short, so a dial that never goes out
-- frees the number soon). Re-takes a claim that lapsed meanwhile if nobody
-- else took it.
-- KEYS[1] the number's call in progress   ARGV[1] call id   ARGV[2] lease ms
-- Returns 1 when the call holds the number, 0 when another call does.
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
