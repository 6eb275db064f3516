-- Holds a contact whose stored state cannot be read: it stays unfinished in
-- its shard's due set, due again only at ARGV[2], and is counted once.
-- KEYS[1] the shard's due zset  KEYS[2] the shard's unreadable set  KEYS[3] the shard's counters
-- ARGV[1] contact index  ARGV[2] recheck at (epoch ms)
-- Returns 1 the first time this contact is held, else 0.
redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[1])
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[3], 'errors', 1)
  return 1
end
return 0
