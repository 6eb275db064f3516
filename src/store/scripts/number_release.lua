-- Releases a number if (and only if) this tenant holds it.
-- KEYS[1] owners hash, KEYS[2] the tenant's number set; ARGV: number, tenant.
-- Returns 1 released, 0 not this tenant's (nothing changed).
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  redis.call('SREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
