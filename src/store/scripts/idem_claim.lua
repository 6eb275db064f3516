-- Claims an idempotency key for one request, or returns what it holds.
-- KEYS[1] idempotency key  ARGV[1] pending marker  ARGV[2] its expiry (ms)
-- Returns false when claimed (the caller runs the request), else the stored value.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return false
end
return redis.call('GET', KEYS[1])
