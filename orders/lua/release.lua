-- Give an unsettled order's units back: its hold (if the policy held stock) and the
-- customer's count. Runs at most once per order: the hold entry is the guard.
-- KEYS[1] state  KEYS[2] buyers  KEYS[3] holds        ARGV[1] order_id
-- Returns the stock left, or false when the order held nothing (already released or settled).
local entry = redis.call('HGET', KEYS[3], ARGV[1])
if not entry then return false end
local quantity, customer, _, held = string.match(entry, '([^|]+)|([^|]+)|([^|]+)|([^|]+)')
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[2], customer, -tonumber(quantity))
redis.call('HINCRBY', KEYS[1], 'version', 1)
if held == '1' then
  return redis.call('HINCRBY', KEYS[1], 'stock', tonumber(quantity))
end
return tonumber(redis.call('HGET', KEYS[1], 'stock') or '0')
