-- HQ raised the deal's stock to ARGV[1] units in the database: add the difference to the
-- counter. Keyed on the new total, not on the increment, so applying it twice (or after a
-- reconciliation already counted it) adds nothing.
-- KEYS[1] state   ARGV[1] new total
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '-1')
if total < 0 then return false end
local delta = tonumber(ARGV[1]) - total
if delta <= 0 then return tonumber(redis.call('HGET', KEYS[1], 'stock')) end
redis.call('HSET', KEYS[1], 'total', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'version', 1)
return redis.call('HINCRBY', KEYS[1], 'stock', delta)
