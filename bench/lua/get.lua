-- A GET of the URL given to wrk (headers, e.g. the session cookie, come with -H).
-- Arguments after "--": the expected status (200).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
  expected = tonumber(args[1] or "200")
end
