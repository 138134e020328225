#!/usr/bin/env node
// agent.cjs drives the real socket.io-client packages — 2.x (what Valu pins)
// and 4.x — for the Go tests of node/protocol/socketio. It is not a client
// of its own: every byte on the wire is produced and parsed by the npm
// packages. The Go test writes one JSON command per line on stdin and reads
// one JSON message per line on stdout:
//
//   {"id": 1, "cmd": "connect", "name": "a", "version": 2|4, "url": "http://127.0.0.1:port",
//    "query": {"sessionId": "..."}, "auth": {...}, "events": ["user_info", ...], "transports": ["websocket"]}
//   {"id": 2, "cmd": "emit", "name": "a", "event": "room:join", "args": [...], "ack": true, "timeoutMs": 5000}
//   {"id": 3, "cmd": "raw", "name": "a", "data": "2[\"x\"]"}   (an Engine.IO message written by the client's engine)
//   {"id": 4, "cmd": "close", "name": "a"}
//
// Replies: {"id": n, "ok": true, "result": ...} or {"id": n, "ok": false, "error": "..."}.
// Client happenings: {"client": "a", "event": "connect" | "disconnect" | "connect_error" | <listened event>, "args": [...]}.
'use strict';

const readline = require('readline');

const libs = { 2: require('sio2'), 4: require('sio4') };
const sockets = new Map();

function out(msg) {
  process.stdout.write(JSON.stringify(msg) + '\n');
}

function report(name, event) {
  return (...args) => {
    // Errors (connect_error) do not serialise; keep their message.
    args = args.map((a) => (a instanceof Error ? { message: a.message, data: a.data } : a));
    out({ client: name, event, args });
  };
}

function connect(c) {
  const io = libs[c.version];
  if (!io) throw new Error(`unknown client version ${c.version}`);
  if (sockets.has(c.name)) throw new Error(`client ${c.name} exists`);
  const opts = {
    path: '/socket',
    transports: c.transports || ['websocket'],
    query: c.query || {},
    reconnection: false,
    forceNew: true,
    timeout: 5000,
  };
  if (c.auth) opts.auth = c.auth;
  const socket = io(c.url, opts);
  sockets.set(c.name, socket);
  for (const ev of ['connect', 'disconnect', 'connect_error', 'error']) socket.on(ev, report(c.name, ev));
  for (const ev of c.events || []) socket.on(ev, report(c.name, ev));
  // The engine's close reason (e.g. "ping timeout") is not in 2.x's disconnect.
  // Heartbeats as the Manager sees them (2.x: ping sent / pong received;
  // 4.x: ping received).
  socket.io.on('ping', () => out({ client: c.name, event: 'heartbeat', args: [] }));
  socket.io.on('open', () => {
    socket.io.engine.on('close', (reason) => out({ client: c.name, event: 'engine_close', args: [String(reason)] }));
  });
  return { version: c.version };
}

function socketOf(name) {
  const s = sockets.get(name);
  if (!s) throw new Error(`no client ${name}`);
  return s;
}

// fromJSON turns {"$binary": "<base64>"} arguments into Buffers, so a test
// can make the client send a binary event.
function fromJSON(v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof v.$binary === 'string') return Buffer.from(v.$binary, 'base64');
  return v;
}

function emit(c, reply) {
  const socket = socketOf(c.name);
  const args = (c.args || []).map(fromJSON);
  if (!c.ack) {
    socket.emit(c.event, ...args);
    reply({ sent: true });
    return;
  }
  const timer = setTimeout(() => reply(null, `no ack for ${c.event} within ${c.timeoutMs || 5000} ms`), c.timeoutMs || 5000);
  socket.emit(c.event, ...args, (...ackArgs) => {
    clearTimeout(timer);
    reply(ackArgs);
  });
}

function handle(c) {
  let done = false;
  const reply = (result, error) => {
    if (done) return;
    done = true;
    out(error ? { id: c.id, ok: false, error: String(error) } : { id: c.id, ok: true, result });
  };
  try {
    switch (c.cmd) {
      case 'connect':
        reply(connect(c));
        break;
      case 'emit':
        emit(c, reply);
        break;
      case 'raw':
        socketOf(c.name).io.engine.write(c.data);
        reply({ sent: true });
        break;
      case 'close':
        socketOf(c.name).close();
        sockets.delete(c.name);
        reply({ closed: true });
        break;
      default:
        reply(null, `unknown command ${c.cmd}`);
    }
  } catch (e) {
    reply(null, e && e.message ? e.message : e);
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let c;
  try {
    c = JSON.parse(line);
  } catch (e) {
    out({ id: -1, ok: false, error: `bad command: ${e.message}` });
    return;
  }
  handle(c);
});
rl.on('close', () => {
  for (const s of sockets.values()) s.close();
  process.exit(0);
});
