-- A member's order expired unpaid: its seat is free again for another joiner. Once per order.
-- KEYS[1] the group's hash   KEYS[2] customer -> "group|deadline_ms"
-- ARGV: order id, customer id, group id
-- Returns the members left, or nil when the order held no seat of the group.
if redis.call('HGET', KEYS[1], 'm:' .. ARGV[2]) ~= ARGV[1] then return nil end
redis.call('HDEL', KEYS[1], 'm:' .. ARGV[2])
local current = redis.call('HGET', KEYS[2], ARGV[2])
if current and string.sub(current, 1, #ARGV[3] + 1) == ARGV[3] .. '|' then
  redis.call('HDEL', KEYS[2], ARGV[2])
end
return redis.call('HINCRBY', KEYS[1], 'count', -1)
