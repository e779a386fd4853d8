-- Forget coupons a refunded pack ended, in their owner's mirror: only those not spent (a spent
-- one's order may not be in SQL yet). The next order naming one reads it again from SQL.
-- KEYS[1] the customer's coupon mirror   ARGV coupon ids
local dropped = 0
for i = 1, #ARGV do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  if value and string.sub(value, -1) == '|' then
    redis.call('HDEL', KEYS[1], ARGV[i])
    dropped = dropped + 1
  end
end
return dropped
