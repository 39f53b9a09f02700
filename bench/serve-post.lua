-- wrk: POST the request body in BODY_FILE to the path given after "--" (bench/run-serve-bench).
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d errors=%d seconds=%.3f p50_ms=%.1f p99_ms=%.1f\n", summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
  io.write(string.format("ERRORS status=%d connect=%d read=%d write=%d timeout=%d\n", e.status, e.connect, e.read, e.write, e.timeout))
end
