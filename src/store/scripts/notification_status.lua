-- A notification's status moves forward only: queued (0) -> sent (1) ->
-- delivered, undelivered or failed (2, final). Twilio's status callbacks
-- repeat and arrive out of order; a status not past the stored one changes
-- nothing (a MessageSid given is still recorded).
-- KEYS[1] notification hash
-- ARGV[1] status  ARGV[2] its rank  ARGV[3] now (RFC 3339)
-- ARGV[4] error code ('' none)  ARGV[5] error message ('' none)  ARGV[6] MessageSid ('' none)
-- Returns -1 (no such notification), 0 (unchanged) or 1 (moved).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[1], 'message_sid', ARGV[6])
end
local rank = tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], 'rank') or '-1')
if current >= rank then
  return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'rank', rank, 'updated_at', ARGV[3], ARGV[1] .. '_at', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'error_code', ARGV[4])
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'error_message', ARGV[5])
end
return 1
