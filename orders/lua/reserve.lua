-- Take an order for one deal, atomically: every check first, then every write.
-- A Lua error does not roll back, so nothing below the checks may fail half-way.
--
-- KEYS[1] state hash   KEYS[2] buyers hash   KEYS[3] holds hash
-- KEYS[4] idempotency record                 KEYS[5] order stream
-- KEYS[6] the customer's coupon mirror (orders/coupons.py), only for an order spending coupons
-- ARGV: order_id, customer_id, quantity, fingerprint, now_ms, pay_within_ms,
--       broadcast_id, hub_broadcast_id, room_store_id, idempotency_key, answer_grace_s,
--       coupon ids ("1,2" or ''), placed_by_guide_id ('' when the customer ordered),
--       [grouped: 'group' when group_join.lua wraps this script, then the group's own ARGV]
-- A kind's own keys come after these (group_join.lua reads the last three).
-- The functions of orders/lua/coupon.lua are prepended (orders/scripts.py).
--
-- Returns {"accepted", order_id, amount_fen, pay_by_ms}
--      or {"again", order_id, amount_fen, pay_by_ms}   (same key, same request)
--      or {"rejected", reason, detail}

local order_id, customer = ARGV[1], ARGV[2]
local quantity = tonumber(ARGV[3])
local fingerprint = ARGV[4]
local now = tonumber(ARGV[5])
local coupons, guide = ARGV[12] or '', ARGV[13] or ''

-- 1. The idempotency key: the same request gets its first answer, a different one is refused.
local prior = redis.call('GET', KEYS[4])
if prior then
  local sep = string.find(prior, '|', 1, true)
  if string.sub(prior, 1, sep - 1) ~= fingerprint then
    return {'rejected', 'idempotency_key_reused', 'this key was used for a different order'}
  end
  local id, amount, pay_by = string.match(string.sub(prior, sep + 1), '([^|]+)|([^|]+)|([^|]+)')
  return {'again', id, amount, pay_by}
end

-- 2. The deal: live, inside its window, sold in this room.
local d = redis.call('HMGET', KEYS[1], 'status', 'price', 'limit', 'starts_ms', 'ends_ms',
  'policy', 'broadcast_id', 'stock', 'product_id', 'kind', 'version', 'gate')
if not d[1] then return {'rejected', 'deal_not_live', 'unknown'} end
-- Redis restarted and the deal is not rebuilt from SQL yet (orders/restore.py): nothing sells.
if d[12] == 'closed' then
  return {'rejected', 'retry', 'the stock is being restored; send the order again'}
end
if d[1] ~= 'live' then return {'rejected', 'deal_not_live', 'the deal is ' .. d[1]} end
if d[4] ~= '' and now < tonumber(d[4]) then
  return {'rejected', 'deal_not_live', 'the deal has not started'}
end
if d[5] ~= '' and now >= tonumber(d[5]) then
  return {'rejected', 'deal_not_live', 'the deal has ended'}
end
-- A group_buy deal sells only through a group (group_join.lua passes ARGV[14] 'group'), and a
-- group's share link sells it outside any room.
local grouped = ARGV[14] == 'group'
if (d[10] == 'group_buy') ~= grouped then
  return {'rejected', grouped and 'not_a_group_deal' or 'group_only',
    grouped and 'this deal sells no groups' or 'open or join a group to buy this deal'}
end
if not grouped and d[7] ~= '' and d[7] ~= ARGV[7] and d[7] ~= ARGV[8] then
  return {'rejected', 'deal_not_live', 'the deal is not sold in this room'}
end

-- 3. The customer's limit, then the stock.
local limit = tonumber(d[3])
local bought = tonumber(redis.call('HGET', KEYS[2], customer) or '0')
if limit > 0 and bought + quantity > limit then
  if d[10] == 'coupon_pack' then
    return {'rejected', 'pack_claimed', 'this pack is yours already'}
  end
  return {'rejected', 'limit_reached', 'at most ' .. limit .. ' per customer'}
end
local stock = tonumber(d[8])
if stock < quantity then return {'rejected', 'sold_out', stock .. ' left'} end
-- A pack deal's budget per store: packs claimed through each store's rooms (orders/coupons.py).
local store_claims = 'store:' .. ARGV[9]
if d[10] == 'coupon_pack' then
  local cap = tonumber(redis.call('HGET', KEYS[1], 'store_cap') or '0')
  if cap > 0 and tonumber(redis.call('HGET', KEYS[1], store_claims) or '0') + quantity > cap then
    return {'rejected', 'sold_out', "this store's packs are all claimed"}
  end
end
if d[10] == 'on_behalf' and guide == '' then
  return {'rejected', 'deal_not_live', 'a guide places the orders of this deal'}
end

-- 3b. The coupons chosen: the customer's, unused, valid, their minimums met, stackable.
local gross = tonumber(d[2]) * quantity
local discount = 0
if coupons ~= '' then
  if d[10] == 'coupon_pack' then
    return {'rejected', 'invalid_coupon', 'a coupon pack takes no coupons'}
  end
  local why
  discount, why = coupon_discount(KEYS[6], coupons, d[9], gross, now)
  if not discount then return {'rejected', 'invalid_coupon', why} end
end

-- 4. The writes: hold, reserve, remember the answer, append the order for the database.
-- The hold goes first and only if the order id is new (HSETNX), so an id collision is
-- refused before anything changed.
local pay_by = now + tonumber(ARGV[6])
local amount = gross - discount
local held = d[6] == 'hold' and '1' or '0'
if redis.call('HSETNX', KEYS[3], order_id,
    quantity .. '|' .. customer .. '|' .. pay_by .. '|' .. held) == 0 then
  return {'rejected', 'retry', 'order id collision'}
end
local version = tonumber(d[11] or '0') + 1
if held == '1' then
  redis.call('HSET', KEYS[1], 'stock', stock - quantity, 'version', version)
else
  redis.call('HSET', KEYS[1], 'version', version)
end
redis.call('HINCRBY', KEYS[2], customer, quantity)
if coupons ~= '' then coupon_spend(KEYS[6], coupons, order_id) end
if d[10] == 'coupon_pack' then redis.call('HINCRBY', KEYS[1], store_claims, quantity) end
-- The answer lives while the deal can take or answer an order: its end plus the pay window
-- (no end: this order's pay-by), plus the grace; then SQL answers (orders/intake.py answer_ttl_ms).
local answer_until = d[5] ~= '' and tonumber(d[5]) + tonumber(ARGV[6]) or pay_by
redis.call('SET', KEYS[4], fingerprint .. '|' .. order_id .. '|' .. amount .. '|' .. pay_by,
  'PX', math.max(answer_until, pay_by) - now + tonumber(ARGV[11]) * 1000)
-- The entry: the order id, and the rest packed as one msgpack array of 16 (array16 0xdc 0x0010,
-- then the values one after the other; an empty room or guide id packs as nil). Two fields
-- instead of 17: less AOF per order, and a plain decode in the persister (orders/persister.py).
redis.call('XADD', KEYS[5], '*', 'id', order_id, 'o', '\220\000\016' .. cmsgpack.pack(
  tonumber(customer), tonumber(string.match(KEYS[1], '{deal:(%d+)}')), tonumber(d[9]), d[10],
  quantity, tonumber(d[2]), amount, now, pay_by, tonumber(ARGV[7]), tonumber(ARGV[9]),
  ARGV[10], d[6], discount, coupons, tonumber(guide)))
return {'accepted', order_id, tostring(amount), tostring(pay_by)}
