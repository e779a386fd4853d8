-- Append one room event to its stream's bounded history and publish it, atomically,
-- so offsets in the history and on the channel are the same and never out of order.
-- KEYS[1] sequence counter, KEYS[2] history stream
-- ARGV[1] stream name, ARGV[2] event JSON without stream/offset, ARGV[3] history length,
-- ARGV[4] pub/sub channel
local offset = redis.call('INCR', KEYS[1])
local payload = '{"stream":"' .. ARGV[1] .. '","offset":' .. offset .. ',' .. string.sub(ARGV[2], 2)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], offset .. '-0', 'p', payload)
redis.call('PUBLISH', ARGV[4], payload)
return offset
