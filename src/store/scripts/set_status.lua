-- Moves a campaign to a new status if it is in one it may come from.
-- KEYS[1] campaign hash; ARGV[1] new status; ARGV[2] a field to stamp ('' = none)
-- ARGV[3] its value; ARGV[4..] statuses it may come from
-- Returns 'ok', 'missing', or the status it has.
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return 'missing' end
for i = 4, #ARGV do
  if cur == ARGV[i] then
    redis.call('HSET', KEYS[1], 'status', ARGV[1])
    if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], ARGV[2], ARGV[3]) end
    return 'ok'
  end
end
return cur
