// graphql-transport-ws, the client side, by hand: connection_init -> connection_ack, then
// subscribe / next / error / complete per operation, ping / pong both ways.
// The socket comes back after a drop (exponential back-off with jitter) and re-subscribes
// every operation still wanted; `onState` tells the page, which re-queries on "live" after a
// drop (pub/sub is a live hint: what happened while the socket was down is not replayed).

const PROTOCOL = "graphql-transport-ws";
const FORBIDDEN = 4403; // the key was refused or revoked: retrying will not help

export class SubscriptionClient {
  constructor(url, { connectionParams, onState, minDelay = 250, maxDelay = 5000, pingEvery = 10000 }) {
    this.url = url;
    this.connectionParams = connectionParams;
    this.onState = onState || (() => {});
    this.minDelay = minDelay;
    this.maxDelay = maxDelay;
    this.pingEvery = pingEvery;
    this.operations = new Map(); // id -> {query, variables, sink}
    this.nextId = 1;
    this.attempt = 0;
    this.socket = null;
    this.stopped = true;
    this.everAcknowledged = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.socket) this.socket.close(1000, "board closed");
    this.socket = null;
  }

  subscribe(query, variables, sink) {
    const id = String(this.nextId++);
    this.operations.set(id, { query, variables, sink });
    if (this.acknowledged) this.send({ id, type: "subscribe", payload: { query, variables } });
    return () => {
      if (this.operations.delete(id) && this.acknowledged) this.send({ id, type: "complete" });
    };
  }

  connect() {
    this.acknowledged = false;
    this.setState(this.everAcknowledged ? "reconnecting" : "connecting");
    const socket = new WebSocket(this.url, PROTOCOL);
    this.socket = socket;
    socket.onopen = () => this.send({ type: "connection_init", payload: this.connectionParams() });
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      clearInterval(this.pingTimer);
      this.socket = null;
      if (this.stopped) return;
      if (event.code === FORBIDDEN) {
        this.setState("unauthorized", event.reason);
        return;
      }
      this.retryLater();
    };
  }

  retryLater() {
    const ceiling = Math.min(this.maxDelay, this.minDelay * 2 ** this.attempt);
    this.attempt += 1;
    this.setState("reconnecting");
    this.retryTimer = setTimeout(() => this.connect(), ceiling / 2 + Math.random() * ceiling / 2);
  }

  receive(message) {
    switch (message.type) {
      case "connection_ack": {
        const again = this.everAcknowledged;
        this.acknowledged = true;
        this.everAcknowledged = true;
        this.attempt = 0;
        for (const [id, op] of this.operations) {
          this.send({ id, type: "subscribe", payload: { query: op.query, variables: op.variables } });
        }
        this.keepAlive();
        this.setState("live", again ? "reconnected" : "connected");
        break;
      }
      case "next":
        this.operations.get(message.id)?.sink.next(message.payload);
        break;
      case "error":
        this.operations.get(message.id)?.sink.error?.(message.payload);
        this.operations.delete(message.id);
        break;
      case "complete":
        this.operations.delete(message.id);
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "pong":
        this.awaitingPong = false;
        break;
    }
  }

  // A connection that died without a close frame (a cable pulled) shows as a missing pong.
  keepAlive() {
    this.awaitingPong = false;
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) {
        this.socket?.close(4408, "no pong");
        return;
      }
      this.awaitingPong = true;
      this.send({ type: "ping" });
    }, this.pingEvery);
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  setState(state, detail) {
    this.state = state;
    this.onState(state, detail);
  }
}
