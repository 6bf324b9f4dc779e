-- tidewatch-counts.lua — the counts of one counter key, read without
-- knowing its encoding.
--
--   redis-cli --eval tidewatch-counts.lua tidewatch:c:<topic>:<yyyymmddhh> , 10
--
-- KEYS[1] is a counter key <prefix>c:<topic>:<yyyymmddhh> (one a topic
-- and UTC hour); ARGV[1] the counters' resolution in seconds
-- (counters.resolution, 10 when left out).  The key is a string of
-- unsigned 32-bit big-endian cells: cell 0 counts the flushes that wrote
-- the key, cell 1 + i the posts of the bucket that starts i resolutions
-- after the start of the key's hour.  Returns one "bucket count" line
-- (bucket: epoch seconds) per bucket that counted, in order.  Read-only.
local key, res = KEYS[1], tonumber(ARGV[1] or '10')
local d = string.match(key, ':(%d%d%d%d%d%d%d%d%d%d)$')
if not d then return redis.error_reply('not a counter key: ' .. key) end
local y, m, dd = tonumber(d:sub(1, 4)), tonumber(d:sub(5, 6)), tonumber(d:sub(7, 8))
-- days since 1970-01-01 of the civil date y-m-dd
if m <= 2 then y = y - 1 end
local era = math.floor(y / 400)
local yoe = y - era * 400
local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + dd - 1
local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
local hs = (era * 146097 + doe - 719468) * 86400 + tonumber(d:sub(9, 10)) * 3600
local s = redis.call('GET', key) or ''
local out = {}
for i = 2, math.floor(#s / 4) do
  local v = struct.unpack('>I4', s, (i - 1) * 4 + 1)
  if v > 0 then out[#out + 1] = string.format('%d %d', hs + (i - 2) * res, v) end
end
return out
