-- Repair a deal's counter and its customers' counts from the database's view:
--   stock = total - sold - held        buyers[c] = sold to c + units of c's unsettled holds
-- where the holds are read here, atomically. Applies only if nothing touched the deal since
-- the caller read `version` before reading the database; else the caller retries.
-- KEYS[1] state  KEYS[2] holds  KEYS[3] restocked set  KEYS[4] buyers
-- ARGV: version, total, sold,
--       n, then n refund ids counted in `sold`,
--       m, then m order ids the database shows sold whose holds are not settled yet (their
--          units are in `sold` already),
--       then pairs customer id, units sold to them (net of refunds)
-- Returns {applied (0/1), stock_before, stock_after, customers whose count was repaired}
local d = redis.call('HMGET', KEYS[1], 'version', 'stock')
if d[1] ~= ARGV[1] then return {0, tonumber(d[2] or '0'), tonumber(d[2] or '0'), 0} end
local i = 4
local n = tonumber(ARGV[i])
for j = i + 1, i + n do redis.call('SADD', KEYS[3], ARGV[j]) end
i = i + n + 1
local m = tonumber(ARGV[i])
local sold_holds = {}
for j = i + 1, i + m do sold_holds[ARGV[j]] = true end
i = i + m + 1
local counts = {}
for j = i, #ARGV - 1, 2 do counts[ARGV[j]] = tonumber(ARGV[j + 1]) end
local held = 0
local holds = redis.call('HGETALL', KEYS[2])
for k = 1, #holds, 2 do
  if not sold_holds[string.match(holds[k], '^([^:]+)')] then
    local quantity, customer = string.match(holds[k + 1], '^([^|]+)|([^|]+)|')
    quantity = tonumber(quantity)
    counts[customer] = (counts[customer] or 0) + quantity
    if string.sub(holds[k + 1], -1) == '1' then held = held + quantity end
  end
end
local repaired = 0
local before = redis.call('HGETALL', KEYS[4])
local seen = {}
for k = 1, #before, 2 do
  seen[before[k]] = true
  if tonumber(before[k + 1]) ~= (counts[before[k]] or 0) then repaired = repaired + 1 end
end
redis.call('DEL', KEYS[4])
-- One HSET per customer: unpack() of one big table would pass Lua's stack limit (~8000).
for customer, units in pairs(counts) do
  if units ~= 0 then
    if not seen[customer] then repaired = repaired + 1 end
    redis.call('HSET', KEYS[4], customer, units)
  end
end
local stock = tonumber(ARGV[2]) - tonumber(ARGV[3]) - held
redis.call('HSET', KEYS[1], 'stock', stock, 'total', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
return {1, tonumber(d[2] or '0'), stock, repaired}
