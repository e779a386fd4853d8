-- Open or join a group of a group_buy deal and take the member's order, atomically: the group's
-- checks, then the deal's (reserve.lua, pasted in as `reserve()` by orders/scripts.py), then
-- the group's writes, only if the order was accepted. One script per deal slot, so however
-- many join at once a group never takes more members than its size.
--
-- KEYS as reserve.lua, then the last three: the group's hash, customer -> "group|deadline_ms",
-- order id -> group id
-- ARGV[1..13] as reserve.lua, ARGV[14] 'group', ARGV[15] group id, ARGV[16] 'open' | 'join',
-- ARGV[17] size, ARGV[18] deadline_ms (opening), ARGV[19] sharer code (opening)
--
-- Returns reserve.lua's reply, or {"rejected", reason, detail} with reason one of
-- already_in_group, unknown_group, group_closed, group_expired, group_full.

local function reserve()
--@reserve.lua
end

local customer, group_id = ARGV[2], ARGV[15]
local now = tonumber(ARGV[5])

-- A retry of a request already taken gets its first answer and changes nothing. A deal Redis
-- lost, or is rebuilding from SQL with its groups (orders/restore.py), gets reserve's refusal
-- (unknown, or retry), not a group's answer from state not rebuilt yet.
if redis.call('EXISTS', KEYS[4]) == 1 then return reserve() end
local gate = redis.call('HMGET', KEYS[1], 'status', 'gate')
if not gate[1] or gate[2] == 'closed' then return reserve() end

-- No customer in two open groups of one deal: the index names the group and its deadline; a
-- group that formed removes its members from it (orders/groups_settle.py).
local current = redis.call('HGET', KEYS[#KEYS - 1], customer)
if current then
  local sep = string.find(current, '|', 1, true)
  if now < tonumber(string.sub(current, sep + 1)) then
    return {'rejected', 'already_in_group',
      'you are already in open group ' .. string.sub(current, 1, sep - 1) .. ' of this deal'}
  end
end

local deadline
if ARGV[16] == 'open' then
  if redis.call('EXISTS', KEYS[#KEYS - 2]) == 1 then return {'rejected', 'retry', 'group id collision'} end
  deadline = ARGV[18]
else
  local g = redis.call('HMGET', KEYS[#KEYS - 2], 'status', 'size', 'count', 'deadline_ms')
  if not g[1] then return {'rejected', 'unknown_group', 'no group ' .. group_id .. ' of this deal'} end
  if g[1] ~= 'open' then return {'rejected', 'group_closed', 'the group is ' .. g[1]} end
  if now >= tonumber(g[4]) then return {'rejected', 'group_expired', 'the group ran out of time'} end
  if tonumber(g[3]) >= tonumber(g[2]) then
    return {'rejected', 'group_full', 'the group has its ' .. g[2] .. ' members'}
  end
  deadline = g[4]
end

local reply = reserve()
if reply[1] ~= 'accepted' then return reply end

if ARGV[16] == 'open' then
  redis.call('HSET', KEYS[#KEYS - 2], 'status', 'open', 'size', ARGV[17], 'count', 0,
    'deadline_ms', deadline, 'leader', customer, 'opened_ms', ARGV[5], 'sharer', ARGV[19])
  -- Kept a week past its deadline for the share page; SQL has it for good.
  redis.call('PEXPIREAT', KEYS[#KEYS - 2], tonumber(deadline) + 7 * 24 * 3600 * 1000)
end
redis.call('HINCRBY', KEYS[#KEYS - 2], 'count', 1)
redis.call('HSET', KEYS[#KEYS - 2], 'm:' .. customer, ARGV[1])
redis.call('HSET', KEYS[#KEYS - 1], customer, group_id .. '|' .. deadline)
redis.call('HSET', KEYS[#KEYS], ARGV[1], group_id)
return reply
