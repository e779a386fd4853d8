-- A payment arrived after its order expired and gave its coupons back: spend them on the order
-- again, all or none, if each is still unused (or already this order's) and valid now.
-- KEYS[1] the customer's coupon mirror   ARGV[1] order id, ARGV[2] now_ms, ARGV[3..] coupon ids
-- Returns {1, ''} when spent, or {0, why}.
for i = 3, #ARGV do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  if not value then return {0, 'coupon ' .. ARGV[i] .. ' is not in the mirror'} end
  local till, used = string.match(value, '^%d+|%d+|[01]|%d+|(%d+)|[^|]*|(.*)$')
  if used ~= '' and used ~= ARGV[1] then return {0, 'coupon ' .. ARGV[i] .. ' is used'} end
  if tonumber(ARGV[2]) >= tonumber(till) then return {0, 'coupon ' .. ARGV[i] .. ' has ended'} end
end
for i = 3, #ARGV do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  redis.call('HSET', KEYS[1], ARGV[i], (string.gsub(value, '|[^|]*$', '|' .. ARGV[1])))
end
return {1, ''}
