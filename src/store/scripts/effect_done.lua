-- Performs a do-not-call write a transition recorded as owed, and takes it off
-- the list of pending effects, in one step (both keys share the do-not-call
-- list's slot). Adding is "only if absent": performing it twice is harmless.
-- KEYS[1] do-not-call hash   KEYS[2] pending effects (sorted set)
-- ARGV[1] number   ARGV[2] entry JSON   ARGV[3] pending member (the record's key)
-- Returns 1 when the number was added now, 0 when it was on the list already.
local added = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
return added
