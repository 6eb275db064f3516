-- Takes a record that owes nothing off the pending effects, unless it was
-- marked pending again since the reaper looked (a new transition under way).
-- KEYS[1] pending effects (sorted set)   ARGV[1] member   ARGV[2] the score it had, at most
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
