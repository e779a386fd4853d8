-- Give coupons back to their owner's mirror: only those the order named still holds.
-- KEYS[1] the customer's coupon mirror   ARGV[1] order_id, ARGV[2..] coupon ids
-- Returns how many were given back.
local freed = 0
for i = 2, #ARGV do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  if value and string.sub(value, -#ARGV[1] - 1) == '|' .. ARGV[1] then
    redis.call('HSET', KEYS[1], ARGV[i], string.sub(value, 1, -#ARGV[1] - 1))
    freed = freed + 1
  end
end
return freed
