-- Before a payment is recorded as a sale, make sure its units are held. Called inside the
-- payment's SQL transaction, after the order's row is locked, so two notices of one order
-- never get here together; the caller undoes what this did (untake.lua) if its transaction
-- fails, and settles the hold (settle.lua) once it commits.
-- KEYS[1] state  KEYS[2] buyers  KEYS[3] holds
-- ARGV: hold_id, quantity, customer_id, pay_by_ms, may_create ('1' for a payment after expiry)
-- Returns {1, 'held'}       the units were held already (hold policy): nothing changed
--         {1, 'converted'}  a first_paid order's counted-but-unheld entry now holds them
--         {1, 'created'}    a new hold took them (payment after expiry)
--         {0, reason}       restoring | no_hold | deal_not_live | sold_out: nothing changed
local d = redis.call('HMGET', KEYS[1], 'status', 'stock', 'gate')
if d[3] == 'closed' then return {0, 'restoring'} end
local entry = redis.call('HGET', KEYS[3], ARGV[1])
if entry and string.sub(entry, -1) == '1' then return {1, 'held'} end
-- A pending order always has its entry (reserve.lua writes it, a restart rebuilds it): one
-- missing means Redis is not in step with SQL, and taking units blindly could take them twice.
if not entry and ARGV[5] ~= '1' then return {0, 'no_hold'} end
if d[1] ~= 'live' then return {0, 'deal_not_live'} end
local quantity = tonumber(ARGV[2])
if tonumber(d[2]) < quantity then return {0, 'sold_out'} end
redis.call('HINCRBY', KEYS[1], 'stock', -quantity)
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[3], ARGV[1], quantity .. '|' .. ARGV[3] .. '|' .. ARGV[4] .. '|1')
if entry then return {1, 'converted'} end
redis.call('HINCRBY', KEYS[2], ARGV[3], quantity)
return {1, 'created'}
