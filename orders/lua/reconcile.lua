-- Repair a deal's counter from the database's view: stock = total - sold - held, where held
-- is read here, atomically, from the holds hash. Applies only if nothing touched the deal
-- since the caller read `version` before reading the database; else the caller retries.
-- KEYS[1] state  KEYS[2] holds  KEYS[3] restocked set
-- ARGV: version, total, sold, refund ids counted in `sold` (any number)
-- Returns {applied (0/1), stock_before, stock_after}
local d = redis.call('HMGET', KEYS[1], 'version', 'stock')
if d[1] ~= ARGV[1] then return {0, tonumber(d[2] or '0'), tonumber(d[2] or '0')} end
local held = 0
local entries = redis.call('HVALS', KEYS[2])
for _, entry in ipairs(entries) do
  if string.sub(entry, -1) == '1' then
    held = held + tonumber(string.match(entry, '^([^|]+)'))
  end
end
for i = 4, #ARGV do redis.call('SADD', KEYS[3], ARGV[i]) end
local stock = tonumber(ARGV[2]) - tonumber(ARGV[3]) - held
redis.call('HSET', KEYS[1], 'stock', stock, 'total', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
return {1, tonumber(d[2] or '0'), stock}
