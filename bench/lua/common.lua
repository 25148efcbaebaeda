-- Shared by every bench script (loaded with dofile). Counts the answers that are not the expected
-- status per thread and, when wrk is done, prints one line the runner parses:
--   BENCH {"requests": …, "duration_us": …, "p50_us": …, "p95_us": …, "p99_us": …, "bad": …, …}
-- A run whose answers are not what the page should answer (a 403, a redirect to the sign-in page,
-- a 422 refusal) measures nothing, so the runner fails on any "bad".

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

expected = 200
good, bad, bad_status, bad_body = 0, 0, 0, ""

function response(status, headers, body)
  if status == expected then
    good = good + 1
  else
    bad = bad + 1
    if bad_status == 0 then
      bad_status = status
      bad_body = string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local good_total, bad_total, first, first_body = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    good_total = good_total + thread:get("good")
    bad_total = bad_total + thread:get("bad")
    if first == 0 and thread:get("bad_status") ~= 0 then
      first = thread:get("bad_status")
      first_body = thread:get("bad_body")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "good": %d, "bad": %d, "first_bad_status": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "status_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, good_total, bad_total, first, e.connect, e.read,
    e.write, e.timeout, e.status))
  if first ~= 0 then
    io.write("BENCH-BAD-BODY " .. string.gsub(first_body, "%s+", " ") .. "\n")
  end
end
