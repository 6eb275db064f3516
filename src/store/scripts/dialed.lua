-- Twilio accepted the dial (or an earlier one was found): the contact's state
-- becomes in progress and it is not taken up again before ARGV[4]. Only if the
-- contact is still on this very call: its callbacks may have settled it
-- already, and that must not be undone.
-- KEYS[1] the shard's contact states  KEYS[2] the shard's due zset
-- ARGV[1] index  ARGV[2] call id  ARGV[3] new state JSON  ARGV[4] check again at ms
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then
  return 0
end
local st = cjson.decode(cur)
if st.call_id ~= ARGV[2] or (st.phase ~= 'dialing' and st.phase ~= 'in_progress') then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], 'XX', tonumber(ARGV[4]), ARGV[1])
return 1
