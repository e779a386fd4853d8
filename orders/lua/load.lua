-- Load a deal's terms into Redis and set its status (launch, stop, end). The stock counter is
-- set only the first time; later loads keep it, because orders have moved it since.
-- KEYS[1] state
-- ARGV: status, price, limit, starts_ms, ends_ms, policy, broadcast_id, product_id, kind,
--       available (units free to sell now, used only when the deal has no counter yet), total,
--       gate (open | closed: set only with a new counter; closed until a restarted Redis is
--       rebuilt, see orders/restore.py)
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'price', ARGV[2], 'limit', ARGV[3],
  'starts_ms', ARGV[4], 'ends_ms', ARGV[5], 'policy', ARGV[6], 'broadcast_id', ARGV[7],
  'product_id', ARGV[8], 'kind', ARGV[9])
if redis.call('HSETNX', KEYS[1], 'stock', ARGV[10]) == 1 then
  redis.call('HSET', KEYS[1], 'total', ARGV[11], 'gate', ARGV[12])
end
redis.call('HINCRBY', KEYS[1], 'version', 1)
return tonumber(redis.call('HGET', KEYS[1], 'stock'))
