-- wrk script: the web store's checkout, one-unit carts. Run with as many threads as
-- connections (-tN -cN): each thread's one connection alternates checkoutReserve of a new
-- cart and, when it held, placeOrder of that cart.
-- Environment: NEXO_KEY (API key), NEXO_CHANNEL (web store channel id), NEXO_SKUS (how many
-- SKUs: a random one of BENCH-00000..N-1 per cart), NEXO_RUN (this run's name, in every
-- cart id and key).
local threads = {}
local key = os.getenv("NEXO_KEY")
local channel = os.getenv("NEXO_CHANNEL")
local skus = tonumber(os.getenv("NEXO_SKUS") or "1")
local run = os.getenv("NEXO_RUN") or "run"
local reserve = "mutation($c: ID!, $cart: String!, $sku: String!, $key: String!) { "
  .. "checkoutReserve(input: {channelId: $c, cartId: $cart, idempotencyKey: $key, "
  .. "lines: [{sku: $sku, quantity: 1}]}) { reservations { id } userErrors { code } } }"
local place = "mutation($c: ID!, $cart: String!, $sku: String!, $key: String!) { "
  .. "placeOrder(input: {channelId: $c, cartId: $cart, idempotencyKey: $key, "
  .. "customer: {email: \\\"bench@example.com\\\"}, shippingAddress: {country: \\\"US\\\"}, "
  .. "lines: [{sku: $sku, quantity: 1, "
  .. "unitPrice: {amount: \\\"10.00\\\", currencyCode: \\\"USD\\\"}}]}) "
  .. "{ order { id status } userErrors { code } } }"

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  placing = false
  held = 0
  placed = 0
  refused = 0
  math.randomseed(id * 7919)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

local function body(query, cart, sku, k)
  return string.format(
    '{"query": "%s", "variables": {"c": "%s", "cart": "%s", "sku": "%s", "key": "%s"}}',
    query, channel, cart, sku, k)
end

function request()
  if not placing then
    counter = counter + 1
    cart = string.format("bench-%s-%d-%d", run, id, counter)
    sku = string.format("BENCH-%05d", skus > 1 and math.random(0, skus - 1) or 0)
    return wrk.format("POST", "/graphql", nil, body(reserve, cart, sku, "hold-" .. cart))
  end
  return wrk.format("POST", "/graphql", nil, body(place, cart, sku, "place-" .. cart))
end

function response(status, headers, response_body)
  local ok = status == 200 and string.find(response_body, '"userErrors":[]', 1, true)
  if not ok and refused == 0 and os.getenv("NEXO_DEBUG") then
    io.write("FAILED " .. status .. " " .. response_body .. "\n")
  end
  if not placing then
    if ok then held = held + 1; placing = true else refused = refused + 1 end
    return
  end
  placing = false
  if ok and string.find(response_body, '"status":"ALLOCATED"', 1, true) then
    placed = placed + 1
  else
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local total = {held = 0, placed = 0, refused = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(total) do total[name] = total[name] + thread:get(name) end
  end
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %.3f, "held": %d, "placed": %d, "refused": %d, '
    .. '"errors": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, total.held, total.placed, total.refused,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
