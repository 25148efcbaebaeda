-- The roll-call tap: POST /absensi/sesi/<id>/tandai as the page's script sends it (an htmx partial
-- request, form-encoded), one new client id per request. Arguments after "--":
--   expected status, CSRF token, run nonce (new for every wrk run, so no client id repeats an
--   earlier run's), thread count, comma-separated registration ids.
-- Thread t takes the ids at positions t, t + threads, …, so no two threads mark the same person;
-- each pass over its ids alternates hadir / belum, so every tap changes its row.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
  expected = tonumber(args[1])
  local csrf, nonce, nthreads = args[2], args[3], tonumber(args[4])
  mine = {}
  local position = 0
  for id in string.gmatch(args[5], "%d+") do
    if position % nthreads == tid - 1 then
      table.insert(mine, id)
    end
    position = position + 1
  end
  prefix = "csrf_token=" .. csrf .. "&client_id=b" .. nonce .. "-" .. tid .. "-"
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["HX-Request"] = "true"
  wrk.headers["HX-Request-Type"] = "partial"
end

function request()
  local index = counter % #mine
  local status = (math.floor(counter / #mine) % 2 == 0) and "hadir" or "belum"
  counter = counter + 1
  local body = prefix .. counter .. "&registration=" .. mine[index + 1] .. "&status=" .. status ..
    "&marked_at=" .. (os.time() * 1000)
  return wrk.format(nil, nil, nil, body)
end
