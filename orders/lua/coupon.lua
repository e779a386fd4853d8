-- Coupon rules, prepended to reserve.lua (orders/scripts.py): the chosen coupons are checked
-- and spent in the same script that takes the stock, so a coupon is spent once however many
-- orders name it at the same instant. The rules match orders/coupons.py `discount`.
-- A mirror field: "off|min|stackable|from_ms|until_ms|,scope,|used_by_order" (orders/coupons.py).

local function coupon_parts(value)
  return string.match(value, '^(%d+)|(%d+)|([01])|(%d+)|(%d+)|([^|]*)|(.*)$')
end

-- The amount off `gross` for the coupons in `csv`, or nil and why not.
local function coupon_discount(key, csv, product, gross, now)
  local total, count, all_stack, seen = 0, 0, true, {}
  for id in string.gmatch(csv, '[^,]+') do
    if seen[id] then return nil, 'coupon ' .. id .. ' is chosen twice' end
    seen[id] = true
    count = count + 1
    local value = redis.call('HGET', key, id)
    if not value then return nil, 'coupon ' .. id .. ' is not yours' end
    local off, minimum, stack, from, till, scope, used = coupon_parts(value)
    if used ~= '' then return nil, 'coupon ' .. id .. ' is used' end
    if now < tonumber(from) or now >= tonumber(till) then
      return nil, 'coupon ' .. id .. ' is not valid now'
    end
    if scope ~= '' and not string.find(scope, ',' .. product .. ',', 1, true) then
      return nil, 'coupon ' .. id .. ' does not apply to this product'
    end
    if gross < tonumber(minimum) then
      return nil, 'coupon ' .. id .. ' needs a spend of ' .. minimum .. ' fen'
    end
    if stack ~= '1' then all_stack = false end
    total = total + tonumber(off)
  end
  if count > 1 and not all_stack then
    return nil, 'a coupon chosen does not stack with others'
  end
  return math.min(total, math.max(gross - 1, 0))
end

-- Mark the coupons in `csv` used by `order_id` (after coupon_discount accepted them).
local function coupon_spend(key, csv, order_id)
  for id in string.gmatch(csv, '[^,]+') do
    local value = redis.call('HGET', key, id)
    redis.call('HSET', key, id, (string.gsub(value, '|[^|]*$', '|' .. order_id)))
  end
end
