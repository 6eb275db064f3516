-- The call log: adds one entry (when given) and drops at most ARGV[3] entries
-- older than the retention cutoff, in one step, so each new call also trims a
-- little and the log never grows past retention by more than a bounded lag.
-- KEYS[1] call log (sorted set, all scores 0, members sort by time)
-- ARGV[1] member to add ("" = none)   ARGV[2] exclusive cutoff, "(<13-digit ms>"
-- ARGV[3] most entries to drop now
-- Returns how many entries were dropped.
if ARGV[1] ~= '' then
  redis.call('ZADD', KEYS[1], 0, ARGV[1])
end
local old = redis.call('ZRANGEBYLEX', KEYS[1], '-', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
if #old > 0 then
  redis.call('ZREM', KEYS[1], unpack(old))
end
return #old
