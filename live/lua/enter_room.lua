-- A customer's socket enters its room: claimed, if fewer than the limit of theirs are open
-- on live nodes, and then written into the room's presence; a refused socket is written
-- nowhere.
-- KEYS[1]: the viewer's claims hash, KEYS[2]: the room's presence hash (both by "{node}/{socket}")
-- ARGV: field, limit, ttl seconds, person, then every live node.
local alive = {}
for i = 5, #ARGV do alive[ARGV[i]] = true end
local open = 0
local fields = redis.call("HKEYS", KEYS[1])
for _, field in ipairs(fields) do
  local node = string.match(field, "^([^/]*)/")
  if alive[node] then open = open + 1 else redis.call("HDEL", KEYS[1], field) end
end
if open >= tonumber(ARGV[2]) then return 0 end
redis.call("HSET", KEYS[1], ARGV[1], 1)
redis.call("EXPIRE", KEYS[1], tonumber(ARGV[3]))
redis.call("HSET", KEYS[2], ARGV[1], ARGV[4])
return 1
