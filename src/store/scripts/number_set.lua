-- Makes a tenant's numbers exactly ARGV[2..]: all or nothing.
-- KEYS[1] owners hash, KEYS[2] the tenant's number set; ARGV: tenant, numbers...
-- Returns {'held', number, holder} when another tenant holds one (nothing
-- changed), else {'ok'}.
local tenant = ARGV[1]
local wanted = {}
for i = 2, #ARGV do
  local holder = redis.call('HGET', KEYS[1], ARGV[i])
  if holder and holder ~= tenant then
    return {'held', ARGV[i], holder}
  end
  wanted[ARGV[i]] = true
end
for _, n in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if not wanted[n] then
    if redis.call('HGET', KEYS[1], n) == tenant then
      redis.call('HDEL', KEYS[1], n)
    end
    redis.call('SREM', KEYS[2], n)
  end
end
for i = 2, #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i], tenant)
  redis.call('SADD', KEYS[2], ARGV[i])
end
return {'ok'}
