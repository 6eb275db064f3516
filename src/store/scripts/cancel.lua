-- Settles the contacts of one shard of a canceled campaign that were never
-- dialed, at most ARGV[1] of them: state 'canceled' (attempts and the last
-- disposition kept), out of the due set and the retry set, counted in
-- 'canceled'. Contacts with a dial under way (dialing, in progress) or held by
-- a live lease (a dispatcher may be about to mark them dialing) are left alone:
-- their calls settle them as usual, and a released one is found by a later step.
-- KEYS[1] the shard's counters hash  KEYS[2] contact states  KEYS[3] due zset
-- KEYS[4] the shard's retry set
-- ARGV[1] most contacts to settle  ARGV[2..] contact indexes under a live lease
-- Returns {settled, unfinished left in the due set}
local held = {}
for i = 2, #ARGV do
  held[ARGV[i]] = true
end
local most = tonumber(ARGV[1])
local settled, kept = 0, 0
while settled < most do
  -- Every member before position `kept` is one left alone.
  local batch = redis.call('ZRANGE', KEYS[3], kept, kept + 99)
  if #batch == 0 then
    break
  end
  for _, idx in ipairs(batch) do
    local cur = redis.call('HGET', KEYS[2], idx)
    local st = {}
    if cur then
      st = cjson.decode(cur)
    end
    if held[idx] or st.phase == 'dialing' or st.phase == 'in_progress' then
      kept = kept + 1
    else
      st.phase = 'canceled'
      st.next_at = nil
      redis.call('HSET', KEYS[2], idx, cjson.encode(st))
      redis.call('ZREM', KEYS[3], idx)
      redis.call('SREM', KEYS[4], idx)
      redis.call('HINCRBY', KEYS[1], 'canceled', 1)
      settled = settled + 1
      if settled >= most then
        break
      end
    end
  end
end
return {settled, redis.call('ZCARD', KEYS[3])}
