-- vary.lua LIMIT NARROW: every request asks a different query (price cap, sort, region,
-- VRAM), so no two requests in a row are alike: the cost of a real filter, sort and page.
-- NARROW=1 filters on model, VRAM and region too; NARROW=0 only caps the price, so pages
-- are full.
local n = 0
local sorts = {"price", "vram", "newest", "oldest"}
local regions = {"", "&region=eu-west", "&region=us-east"}
function init(args) limit = args[1]; narrow = args[2] == "1" end
request = function()
  n = n + 1
  local path
  if narrow then
    path = "/gpus?model=rtx&sort=" .. sorts[n % 4 + 1] .. regions[n % 3 + 1]
      .. "&min_vram=" .. (16 + n % 3 * 8) .. "&max_price=" .. (2000 + n % 100000)
  else
    path = "/gpus?sort=" .. sorts[n % 4 + 1] .. "&max_price=" .. (4000 + n % 100000)
  end
  return wrk.format("GET", path .. "&limit=" .. limit)
end
