-- Claim one of a viewer's sockets, if fewer than the limit are open on live nodes.
-- KEYS[1]: the viewer's claims hash (field "{node}/{socket}")
-- ARGV: field, limit, ttl seconds, then every live node.
local alive = {}
for i = 4, #ARGV do alive[ARGV[i]] = true end
local open = 0
local fields = redis.call("HKEYS", KEYS[1])
for _, field in ipairs(fields) do
  local node = string.match(field, "^([^/]*)/")
  if alive[node] then open = open + 1 else redis.call("HDEL", KEYS[1], field) end
end
if open >= tonumber(ARGV[2]) then return 0 end
redis.call("HSET", KEYS[1], ARGV[1], 1)
redis.call("EXPIRE", KEYS[1], tonumber(ARGV[3]))
return 1
