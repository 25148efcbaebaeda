-- The bare-stack floor (bench/floor.py): the same form fields as the roll-call tap, without the
-- CSRF token and the session the app needs. Arguments after "--":
--   expected status, run nonce (new for every wrk run), thread count, comma-separated
--   registration ids.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
  expected = tonumber(args[1])
  local nonce, nthreads = args[2], tonumber(args[3])
  mine = {}
  local position = 0
  for id in string.gmatch(args[4], "%d+") do
    if position % nthreads == tid - 1 then
      table.insert(mine, id)
    end
    position = position + 1
  end
  prefix = "client_id=f" .. nonce .. "-" .. tid .. "-"
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  local index = counter % #mine
  local status = (math.floor(counter / #mine) % 2 == 0) and "hadir" or "belum"
  counter = counter + 1
  local body = prefix .. counter .. "&registration=" .. mine[index + 1] .. "&status=" .. status ..
    "&marked_at=" .. (os.time() * 1000)
  return wrk.format(nil, nil, nil, body)
end
