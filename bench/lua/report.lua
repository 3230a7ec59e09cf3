-- Prints one machine-readable "RESULT key=value ..." line when wrk finishes (run.sh parses it).
--
-- Errors are wrk's own count (responses with status >= 400) and socket errors, as in the shared
-- harness that measured the FastAPI design: the scenarios send nothing a 1xx or 3xx could
-- answer. A script that defines response() makes wrk parse every response and copy its body
-- into Lua: on 7 KB list pages that doubled wrk's user CPU (about 5 µs more a request, on cores
-- it shares with the server and PostgreSQL). So that check is only made with CHECK_2XX=1,
-- which counts every response that is not 2xx and prints the first few of each thread.

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  threads[#threads + 1] = thread
end

non2xx = 0

if os.getenv("CHECK_2XX") == "1" then
  local shown = 0
  local scenario_response = response -- a scenario's own (complete-recurring), if it has one
  function response(status, headers, body)
    if scenario_response then scenario_response(status, headers, body) end
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if shown < 3 then
        shown = shown + 1
        io.stderr:write(string.format("non-2xx: %d %s\n", status, string.sub(body or "", 1, 300)))
      end
    end
  end
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local bad = e.status
  if os.getenv("CHECK_2XX") == "1" then
    bad = 0
    for _, t in ipairs(threads) do bad = bad + (tonumber(t:get("non2xx")) or 0) end
  end
  io.write(string.format(
    "RESULT scenario=%s requests=%d duration_s=%.2f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "err_connect=%d err_read=%d err_write=%d err_timeout=%d non2xx=%d bytes=%d\n",
    os.getenv("SCENARIO") or "plain", summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, bad, summary.bytes))
end
