-- wrk script: reserveStock of 1 unit, a fresh idempotency key per request.
-- Environment: NEXO_KEY (API key), NEXO_LOCATION (location id), NEXO_SKUS (how many SKUs:
-- 1 = the hot SKU "BENCH-00000", N = a random one of BENCH-00000..N-1), NEXO_RUN (this
-- run's name, in every key: a run's keys are new, not replays of an earlier run's).
local threads = {}
local key = os.getenv("NEXO_KEY")
local location = os.getenv("NEXO_LOCATION")
local skus = tonumber(os.getenv("NEXO_SKUS") or "1")
local run = os.getenv("NEXO_RUN") or "run"
local query = "mutation($sku: String!, $loc: ID!, $key: String!) { reserveStock(input: "
  .. "{sku: $sku, quantity: 1, locationId: $loc, idempotencyKey: $key}) "
  .. "{ reservation { id } userErrors { code } } }"

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  failed = 0
  math.randomseed(id * 7919)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  counter = counter + 1
  local sku = string.format("BENCH-%05d", skus > 1 and math.random(0, skus - 1) or 0)
  local body = string.format(
    '{"query": "%s", "variables": {"sku": "%s", "loc": "%s", "key": "wrk-%s-%d-%d"}}',
    query, sku, location, run, id, counter)
  return wrk.format("POST", "/graphql", nil, body)
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"userErrors":[]', 1, true) then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local failures = 0
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failed")
  end
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %.3f, "failed": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, failures + summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
