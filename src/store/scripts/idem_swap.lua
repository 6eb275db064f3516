-- Replaces an idempotency key's value only while it still holds this request's
-- marker (a stale request never overwrites another's claim or answer).
-- KEYS[1] idempotency key  ARGV[1] expected value  ARGV[2] new value ('' deletes)
-- ARGV[3] expiry of the new value (ms)
-- Returns 1 when swapped, 0 when the key held something else.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
