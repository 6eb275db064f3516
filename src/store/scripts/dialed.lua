-- Twilio accepted the dial: the contact counts as active until its call ends.
-- Only if the contact is still dialing this very call: its callbacks may have
-- settled it already, and that must not be undone.
-- KEYS[1] contact states  KEYS[2] leases  KEYS[3] active
-- ARGV[1] index  ARGV[2] call id  ARGV[3] new state JSON  ARGV[4] active until ms
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then
  return 0
end
local st = cjson.decode(cur)
if st.call_id ~= ARGV[2] or st.phase ~= 'dialing' then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], tonumber(ARGV[4]), ARGV[1])
return 1
