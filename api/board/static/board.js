// The warehouse board: chosen SKUs and locations, live. One query paints everything; four
// subscriptions keep it current; after a drop the socket comes back and the page re-queries.
import { SubscriptionClient } from "./gqlws.js";

const KEY = "nexo.board.key";
const MAX_SKUS = 20;
const $ = (selector) => document.querySelector(selector);

const ORDER_FIELDS = `orders(first: 12) { edges { node { id number externalId channelId status
  placedAt needsAttention attentionReason lines { sku quantity } } } }`;
const ORDERS = `query BoardOrders { ${ORDER_FIELDS} }`;
const BOARD = `query Board($items: Int!) {
  locations { id code name }
  channels { id name kind }
  inventoryItems(first: $items) { edges { node { sku } } }
  ${ORDER_FIELDS}
  alerts(acknowledged: false, first: 12) { edges { node { id kind sku available threshold
    createdAt channelId message } } }
}`;

const STOCK_CHANGED = `subscription($skus: [String!]) { stockChanged(skus: $skus) {
  sku locationId locationCode onHand reserved available version channels { channelId quantity } } }`;
const ORDER_EVENTS = `subscription { orderEvents { kind orderId status needsAttention detail } }`;
const ALERTS = `subscription { inventoryAlerts { id kind sku available threshold createdAt
  channelId message } }`;
const SYNC_EVENTS = `subscription { syncEvents { channelId operation outcome message createdAt } }`;

const state = {
  skus: [], locationCodes: [], locations: [], channels: [], orders: [], alerts: [],
  levels: new Map(), // sku -> Map(locationId -> level)
  perChannel: new Map(), // sku -> Map(channelId -> quantity)
  health: new Map(), // channelId -> status
  client: null,
};

function key() {
  return localStorage.getItem(KEY);
}

async function graphql(query, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${key()}` },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 401) throw new Unauthorized();
  const body = await response.json();
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

class Unauthorized extends Error {}

function aliased(field, names, args) {
  return names.map((name, n) => `a${n}: ${field}(${args(name)})`).join("\n");
}

// --- loading ---------------------------------------------------------------------------

async function load() {
  try {
    const data = await graphql(BOARD, { items: MAX_SKUS });
    state.locations = data.locations;
    state.channels = data.channels;
    state.orders = data.orders.edges.map((e) => e.node);
    state.alerts = data.alerts.edges.map((e) => e.node);
    const chosen = state.skus.length ? state.skus : data.inventoryItems.edges.map((e) => e.node.sku);
    await Promise.all([loadStock(chosen.slice(0, MAX_SKUS)), loadHealth()]);
    showError(null);
    render();
  } catch (error) {
    if (error instanceof Unauthorized) return askForKey("That key was refused.");
    showError(error.message);
  }
}

async function loadStock(skus) {
  state.levels = new Map(skus.map((sku) => [sku, new Map()]));
  state.perChannel = new Map(skus.map((sku) => [sku, new Map()]));
  if (!skus.length) return;
  const vars = Object.fromEntries(skus.map((sku, n) => [`s${n}`, sku]));
  const params = skus.map((_, n) => `$s${n}: String!`).join(", ");
  const items = skus.map((_, n) => `i${n}: inventoryItem(sku: $s${n}) { sku levels {
    location { id code } onHand reserved available version } }`).join("\n");
  const data = await graphql(`query(${params}) { ${items} }`, vars);
  skus.forEach((sku, n) => {
    for (const level of data[`i${n}`]?.levels || []) {
      state.levels.get(sku).set(level.location.id, { ...level, locationCode: level.location.code });
    }
  });
  // Per channel, a query of its own (each asks one availability per SKU: under the alias cap).
  await Promise.all(state.channels.map(async (channel) => {
    const asked = skus.map((_, n) => `c${n}: channelAvailability(sku: $s${n}, channelId: $c) { quantity }`);
    const found = await graphql(`query($c: ID!, ${params}) { ${asked.join("\n")} }`, { ...vars, c: channel.id });
    skus.forEach((sku, n) => state.perChannel.get(sku).set(channel.id, found[`c${n}`].quantity));
  }));
}

async function loadHealth() {
  if (!state.channels.length) return;
  const vars = Object.fromEntries(state.channels.map((c, n) => [`c${n}`, c.id]));
  const params = state.channels.map((_, n) => `$c${n}: ID!`).join(", ");
  const asked = state.channels.map((_, n) => `s${n}: channelSyncStatus(channelId: $c${n}) {
      pending oldestPendingAgeSeconds dead calls failures throttles problem }
    l${n}: syncLog(channelId: $c${n}, outcome: OK, first: 1) { edges { node { createdAt } } }`);
  const data = await graphql(`query(${params}) { ${asked.join("\n")} }`, vars);
  state.channels.forEach((channel, n) => {
    const last = data[`l${n}`].edges[0]?.node.createdAt || null;
    state.health.set(channel.id, { ...data[`s${n}`], lastSuccessAt: last });
  });
}

const later = new Map();
function soon(name, delay, work) {
  if (later.has(name)) return;
  later.set(name, setTimeout(async () => {
    later.delete(name);
    try { await work(); render(); } catch (error) { showError(error.message); }
  }, delay));
}

// --- live -------------------------------------------------------------------------------

function subscribe() {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const client = new SubscriptionClient(url, {
    connectionParams: () => ({ authorization: `Bearer ${key()}` }),
    onState: (now, detail) => {
      const badge = $("#connection");
      badge.dataset.state = now;
      badge.textContent = { live: "live", connecting: "connecting…", reconnecting: "reconnecting…",
                            unauthorized: "key refused" }[now];
      if (now === "unauthorized") askForKey("That key was refused.");
      if (now === "live" && detail === "reconnected") load(); // what the drop missed
    },
  });
  client.subscribe(STOCK_CHANGED, { skus: state.skus.length ? state.skus : null }, { next: onStock });
  client.subscribe(ORDER_EVENTS, {}, { next: () => soon("orders", 200, loadOrders) });
  client.subscribe(ALERTS, {}, { next: onAlert });
  client.subscribe(SYNC_EVENTS, {}, { next: onSync });
  client.start();
  state.client = client;
}

function onStock({ data }) {
  const change = data.stockChanged;
  const levels = state.levels.get(change.sku);
  if (!levels) return;
  const known = levels.get(change.locationId);
  if (known && known.version >= change.version) return; // an older event arrived late
  levels.set(change.locationId, { ...change, location: { id: change.locationId, code: change.locationCode } });
  const perChannel = state.perChannel.get(change.sku);
  for (const c of change.channels) perChannel.set(c.channelId, c.quantity);
  render();
  flash(`tr[data-sku="${CSS.escape(change.sku)}"]`);
  soon("health", 1000, loadHealth);
}

async function loadOrders() {
  const data = await graphql(ORDERS);
  state.orders = data.orders.edges.map((e) => e.node);
}

function onAlert({ data }) {
  state.alerts = [data.inventoryAlerts, ...state.alerts].slice(0, 12);
  render();
}

function onSync({ data }) {
  const call = data.syncEvents;
  const health = state.health.get(call.channelId);
  if (health && call.outcome === "OK") health.lastSuccessAt = call.createdAt;
  render();
  soon("health", 1000, loadHealth);
}

// --- painting ---------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("data-")) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) node.append(child ?? "");
  return node;
}

function ago(iso) {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

function shownLocations() {
  if (!state.locationCodes.length) return state.locations;
  return state.locations.filter((l) => state.locationCodes.includes(l.code));
}

function renderStock() {
  const locations = shownLocations();
  const head = el("tr", {}, el("th", {}, "SKU"),
    ...locations.map((l) => el("th", { colSpan: 3, class: "group" }, l.code)),
    ...state.channels.map((c) => el("th", { class: "channel" }, c.name)));
  const sub = el("tr", { class: "sub" }, el("th"),
    ...locations.flatMap(() => ["on hand", "reserved", "available"].map((t) => el("th", {}, t))),
    ...state.channels.map(() => el("th", {}, "available")));
  const rows = [...state.levels.entries()].map(([sku, levels]) => el("tr", { "data-sku": sku },
    el("td", { class: "sku" }, sku),
    ...locations.flatMap((l) => {
      const level = levels.get(l.id);
      return [["onHand", "on-hand"], ["reserved", "reserved"], ["available", "available"]].map(
        ([field, css]) => el("td", { class: `num ${css}`, "data-location": l.code, "data-field": field },
          level ? String(level[field]) : "–"));
    }),
    ...state.channels.map((c) => {
      const quantity = state.perChannel.get(sku).get(c.id);
      return el("td", { class: `num channel${quantity === 0 ? " zero" : ""}`, "data-channel": c.name },
        quantity === undefined ? "–" : String(quantity));
    })));
  $("#stock").replaceChildren(el("thead", {}, head, sub), el("tbody", {}, ...rows));
}

function channelName(id) {
  return state.channels.find((c) => c.id === id)?.name ?? "?";
}

function renderOrders() {
  const rows = state.orders.map((o) => el("li", { "data-order-id": o.id, "data-status": o.status,
    class: o.needsAttention ? "attention" : "" },
    el("span", { class: "channel" }, channelName(o.channelId)),
    el("span", { class: "number" }, o.number || o.externalId),
    el("span", { class: `status ${o.status.toLowerCase()}` }, o.status.replace(/_/g, " ").toLowerCase()),
    el("span", { class: "lines" }, o.lines.map((l) => `${l.quantity}× ${l.sku ?? "?"}`).join(", ")),
    el("span", { class: "why" }, o.attentionReason || "")));
  $("#orders").replaceChildren(...(rows.length ? rows : [el("li", { class: "empty" }, "No orders yet")]));
}

function renderAlerts() {
  const rows = state.alerts.map((a) => el("li", { "data-kind": a.kind, class: a.kind.toLowerCase() },
    el("span", { class: "kind" }, a.kind.replace(/_/g, " ").toLowerCase()),
    el("span", {}, a.sku ?? channelName(a.channelId)),
    el("span", { class: "detail" }, a.message ?? `${a.available} left`),
    el("span", { class: "when" }, ago(a.createdAt))));
  $("#alerts").replaceChildren(...(rows.length ? rows : [el("li", { class: "empty" }, "No open alerts")]));
}

function renderHealth() {
  const cards = state.channels.map((c) => {
    const h = state.health.get(c.id) || {};
    const bad = h.problem || h.dead || h.failures;
    return el("li", { "data-channel": c.name, class: bad ? "unhealthy" : "healthy" },
      el("h3", {}, c.name, el("small", {}, c.kind.toLowerCase())),
      el("dl", {},
        el("dt", {}, "backlog"), el("dd", { "data-field": "pending" }, String(h.pending ?? "–")),
        el("dt", {}, "oldest"), el("dd", {}, h.oldestPendingAgeSeconds == null ? "–" : `${h.oldestPendingAgeSeconds}s`),
        el("dt", {}, "last success"), el("dd", { "data-field": "lastSuccess" }, ago(h.lastSuccessAt)),
        el("dt", {}, "failures (1h)"), el("dd", { "data-field": "failures" }, String(h.failures ?? "–")),
        el("dt", {}, "dead"), el("dd", {}, String(h.dead ?? "–"))),
      h.problem ? el("p", { class: "problem" }, h.problem) : "");
  });
  $("#channels").replaceChildren(...cards);
}

function render() {
  renderStock();
  renderOrders();
  renderAlerts();
  renderHealth();
}

function flash(selector) {
  const row = document.querySelector(selector);
  if (!row) return;
  row.classList.remove("flash");
  void row.offsetWidth; // restart the animation
  row.classList.add("flash");
}

function showError(message) {
  $("#error").hidden = !message;
  $("#error").textContent = message || "";
}

// --- key and choices --------------------------------------------------------------------

function askForKey(message) {
  state.client?.stop();
  state.client = null;
  $("#board").hidden = true;
  $("#key-form").hidden = false;
  $("#key-message").textContent = message || "";
}

function begin() {
  $("#key-form").hidden = true;
  $("#board").hidden = false;
  load();
  subscribe();
}

function readChoices() {
  const params = new URLSearchParams(location.search);
  const list = (name) => (params.get(name) || "").split(",").map((s) => s.trim()).filter(Boolean);
  state.skus = list("skus").slice(0, MAX_SKUS);
  state.locationCodes = list("locations");
  $("#skus-input").value = state.skus.join(", ");
  $("#locations-input").value = state.locationCodes.join(", ");
}

$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  localStorage.setItem(KEY, $("#key-input").value.trim());
  $("#key-input").value = "";
  begin();
});

$("#choices").addEventListener("submit", (event) => {
  event.preventDefault();
  const params = new URLSearchParams();
  const skus = $("#skus-input").value.trim();
  const locations = $("#locations-input").value.trim();
  if (skus) params.set("skus", skus.replace(/\s+/g, ""));
  if (locations) params.set("locations", locations.replace(/\s+/g, ""));
  history.replaceState(null, "", params.size ? `?${params}` : location.pathname);
  readChoices();
  state.client?.stop();
  begin();
});

$("#forget").addEventListener("click", () => {
  localStorage.removeItem(KEY);
  askForKey("");
});

setInterval(() => { if (state.client) { renderHealth(); renderAlerts(); } }, 5000); // "Ns ago"
readChoices();
if (key()) begin(); else askForKey("");
