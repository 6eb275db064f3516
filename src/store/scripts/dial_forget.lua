-- Takes a dial back: off the number's count (a dial Twilio never received)
-- and, if this call still holds it, the number's claim; or, with an empty
-- member, only releases the claim (the call is over).
-- KEYS[1] sorted set of the number's dials   KEYS[2] the number's call in progress
-- ARGV[1] member ('' = none)   ARGV[2] call id
if ARGV[1] ~= '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
if redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('DEL', KEYS[2])
end
return 1
