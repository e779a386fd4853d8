-- The sale is committed in the database: drop the order's hold without giving units back.
-- KEYS[1] state  KEYS[2] holds   ARGV[1] order_id
if redis.call('HDEL', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'version', 1)
end
return 1
