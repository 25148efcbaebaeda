-- Public registration: POST /e/<code> as a browser without JavaScript sends it, one new phone
-- number per request (a 303 to the new ticket). Arguments after "--":
--   expected status, CSRF token (from the public page's session cookie, sent with -H), run number
--   (new for every wrk run, so no phone number repeats an earlier run's; its last three digits
--   are used).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
  expected = tonumber(args[1])
  csrf, nonce = args[2], args[3]
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  counter = counter + 1
  -- 0857 + run nonce (3) + thread (1) + counter (5): a valid Indonesian mobile number
  local phone = string.format("0857%03d%d%05d", tonumber(nonce) % 1000, tid % 10, counter % 100000)
  local body = "csrf_token=" .. csrf .. "&name=Peserta+Bench+" .. phone .. "&phone=" .. phone ..
    "&institution=KIM+Bench&position=Anggota&consent=y&gender=" .. ((counter % 2 == 0) and "L" or "P")
  return wrk.format(nil, nil, nil, body)
end
