-- The payment's SQL transaction failed: undo exactly what take.lua did.
-- KEYS[1] state  KEYS[2] buyers  KEYS[3] holds
-- ARGV: hold_id, what take.lua returned ('converted' or 'created')
-- Returns 1 when something was undone, 0 when the hold was already gone.
local entry = redis.call('HGET', KEYS[3], ARGV[1])
if not entry or string.sub(entry, -1) ~= '1' then return 0 end
local quantity = tonumber(string.match(entry, '^([^|]+)'))
if ARGV[2] == 'converted' then
  redis.call('HSET', KEYS[3], ARGV[1], string.sub(entry, 1, -2) .. '0')
else
  local customer = string.match(entry, '^[^|]+|([^|]+)')
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HINCRBY', KEYS[2], customer, -quantity)
end
redis.call('HINCRBY', KEYS[1], 'stock', quantity)
redis.call('HINCRBY', KEYS[1], 'version', 1)
return 1
