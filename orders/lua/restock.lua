-- Refunded units go back to a deal that still runs, once per refund id.
-- KEYS[1] state  KEYS[2] restocked set  KEYS[3] buyers
-- ARGV: refund_id, quantity, customer_id
-- Returns the stock left, or false when nothing went back.
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'live' and status ~= 'stopped' then return false end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return false end
redis.call('HINCRBY', KEYS[3], ARGV[3], -tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[1], 'version', 1)
return redis.call('HINCRBY', KEYS[1], 'stock', tonumber(ARGV[2]))
