-- Claims scheduled single calls that are due: each is pushed to the end of a
-- lease, so another instance takes it up only if this one dies first.
-- KEYS[1] scheduled set; ARGV: now_ms, lease_end_ms, limit.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], id)
end
return due
