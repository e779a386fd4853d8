-- Before a payment is recorded as a sale, make sure its units are held: a pending order under
-- the `hold` policy already holds them; a `first_paid` order, or one paid after it expired,
-- takes them now if the stock allows. The hold stays until the sale is committed (settle.lua),
-- so a reconciliation in between never counts the units as free.
-- KEYS[1] state  KEYS[2] buyers  KEYS[3] holds
-- ARGV: order_id, quantity, customer_id, pay_by_ms
-- Returns {1, stock_left} when the units are held, {0, reason} when they cannot be.
local entry = redis.call('HGET', KEYS[3], ARGV[1])
if entry and string.sub(entry, -1) == '1' then
  return {1, redis.call('HGET', KEYS[1], 'stock')}
end
local d = redis.call('HMGET', KEYS[1], 'status', 'stock')
if d[1] ~= 'live' then return {0, 'deal_not_live'} end
local quantity = tonumber(ARGV[2])
if tonumber(d[2]) < quantity then return {0, 'sold_out'} end
local stock = redis.call('HINCRBY', KEYS[1], 'stock', -quantity)
redis.call('HINCRBY', KEYS[1], 'version', 1)
if not entry then redis.call('HINCRBY', KEYS[2], ARGV[3], quantity) end
redis.call('HSET', KEYS[3], ARGV[1], quantity .. '|' .. ARGV[3] .. '|' .. ARGV[4] .. '|1')
return {1, stock}
