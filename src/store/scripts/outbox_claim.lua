-- Claims up to ARGV[3] due deliveries for ARGV[2] ms (another instance takes
-- over if this one dies). KEYS[1] outbox zset  KEYS[2] items hash  ARGV[1] now ms
-- Returns a flat list: id1, item1, id2, item2, ...
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local item = redis.call('HGET', KEYS[2], id)
  if item then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
    table.insert(out, id)
    table.insert(out, item)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
