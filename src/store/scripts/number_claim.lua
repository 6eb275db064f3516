-- Claims a number for a tenant: a number belongs to at most one tenant.
-- KEYS[1] owners hash, KEYS[2] the tenant's number set; ARGV: number, tenant.
-- Returns {1, tenant} claimed now, {2, tenant} already this tenant's,
-- {0, holder} held by another tenant (nothing changed).
local holder = redis.call('HGET', KEYS[1], ARGV[1])
if holder and holder ~= ARGV[2] then
  return {0, holder}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
if holder then
  return {2, holder}
end
return {1, ARGV[2]}
