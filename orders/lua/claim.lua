-- Claim an idempotency key for one deal (the reserve script can only see its own deal's keys).
-- KEYS[1] orders:idem:<customer>:<key>   ARGV: deal_id, ttl_s
-- Returns {1 if this call claimed it, the deal that owns the key}.
local owner = redis.call('GET', KEYS[1])
if owner then return {0, owner} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return {1, ARGV[1]}
