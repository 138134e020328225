// roomring demo page: a small client of the venueless Rooms API.
//
// It joins as a guest (a random client_id kept in localStorage), as an
// anonymous invitee (?invite=<code>, or #invite=<code> on the invite route) or with a session token, lists the rooms
// of world.config, enters one room at a time, shows its viewers (with
// room:viewers), live reaction counts and schedule, and reconnects with
// backoff when the socket closes.
(() => {
  "use strict";

  const params = new URLSearchParams(location.search);
  const world = params.get("world") || "default";
  const defaultReactions = ["👏", "❤️", "👍", "🤣", "😮"];
  const reactionNames = { "👏": "applause", "❤️": "love", "👍": "thumbs up", "🤣": "laughter", "😮": "surprise" };
  const maxErrors = 5;
  const maxFloaters = 6;

  const $ = (id) => document.getElementById(id);

  // h creates an element; props are assigned as properties except
  // "dataset" and attributes with a dash, which are set as attributes.
  function h(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "dataset") Object.assign(e.dataset, v);
      else if (k.includes("-")) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  }

  const storage = {
    get(key) {
      try { return localStorage.getItem("roomring." + key); } catch { return null; }
    },
    set(key, value) {
      try { localStorage.setItem("roomring." + key, value); } catch { /* storage disabled: keep it in memory */ }
    },
  };

  function randomHex(bytes) {
    const b = new Uint8Array(bytes);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function clientID() {
    let id = storage.get("client_id");
    if (!id) {
      id = randomHex(16);
      storage.set("client_id", id);
    }
    return id;
  }

  class ServerError extends Error {
    constructor(action, body) {
      super((body && body.message) || (body && body.code) || "error");
      this.action = action;
      this.code = (body && body.code) || "unknown";
    }
  }

  class ConnectionLost extends Error {}

  const state = {
    creds: null,        // body of authenticate
    // ?invite=<code>, or venueless' invite route the node's invite links
    // redirect to: /standalone/<room>/anonymous#invite=<code>.
    invite: params.get("invite") || new URLSearchParams(location.hash.slice(1)).get("invite"),
    ws: null,
    nextID: 1,
    pending: new Map(), // request id -> {action, resolve, reject}
    user: null,         // user.config once authenticated
    rooms: [],          // world.config.rooms
    current: null,      // id of the room entered or being entered
    entered: false,     // room.enter of current succeeded on this socket
    viewers: null,      // Map id -> user, or null without room:viewers
    counts: {},         // reaction -> count since entering current
    attempt: 0,         // reconnect attempts since the last authentication
    retryTimer: 0,
    stopped: true,      // signed out or never joined: do not reconnect
    replaced: false,    // the server replaced this connection by a newer one
  };

  // ---- messages -------------------------------------------------------

  function showError(text) {
    const list = $("errors");
    const item = h("li", {},
      h("span", { className: "error-text" }, text),
      h("button", { type: "button", className: "link", textContent: "Dismiss", "aria-label": "Dismiss error" }));
    item.querySelector("button").addEventListener("click", () => item.remove());
    list.prepend(item);
    while (list.children.length > maxErrors) list.lastElementChild.remove();
  }

  function showServerError(err) {
    if (err instanceof ServerError) showError(`${err.action}: ${err.message} (${err.code})`);
    else if (!(err instanceof ConnectionLost)) showError(String(err && err.message ? err.message : err));
  }

  function notice(text) {
    const n = $("notice");
    n.textContent = text;
    n.hidden = !text;
  }

  function setStatus(kind, text) {
    const c = $("conn");
    c.dataset.state = kind;
    c.textContent = text;
    $("retry").hidden = !(kind === "reconnecting" || kind === "replaced");
  }

  // ---- connection -----------------------------------------------------

  function socketURL() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws/world/${encodeURIComponent(world)}/`;
  }

  function connect() {
    clearTimeout(state.retryTimer);
    if (state.ws) return;
    state.replaced = false;
    setStatus("connecting", state.attempt ? `Reconnecting (attempt ${state.attempt + 1})…` : "Connecting…");
    let ws;
    try {
      ws = new WebSocket(socketURL());
    } catch (e) {
      showError(`cannot open websocket: ${e.message}`);
      return;
    }
    state.ws = ws;
    ws.addEventListener("open", () => ws.send(JSON.stringify(["authenticate", state.creds])));
    ws.addEventListener("message", (ev) => {
      if (state.ws === ws) onFrame(ev.data);
    });
    ws.addEventListener("close", (ev) => {
      if (state.ws === ws) onClose(ev);
    });
  }

  function request(action, payload) {
    return new Promise((resolve, reject) => {
      const ws = state.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN || !state.user) {
        reject(new ConnectionLost("not connected"));
        return;
      }
      const id = state.nextID++;
      state.pending.set(id, { action, resolve, reject });
      ws.send(JSON.stringify([action, id, payload]));
    });
  }

  function onClose(ev) {
    state.ws = null;
    state.user = null;
    state.entered = false;
    for (const p of state.pending.values()) p.reject(new ConnectionLost("connection lost"));
    state.pending.clear();
    renderRoom();
    if (state.stopped) return;
    if (state.replaced) {
      setStatus("replaced", "Disconnected: this account connected from another window.");
      return;
    }
    const delay = retryDelay(ev.code);
    state.attempt++;
    const why = ev.code === 1001 ? "the server went away"
      : ev.code === 1012 ? "the server is restarting"
      : ev.code === 1008 ? "the server closed the connection (policy)"
      : ev.code === 1009 ? "a message was too big"
      : `code ${ev.code}`;
    setStatus("reconnecting", `Connection lost (${why}). Reconnecting in ${Math.max(1, Math.round(delay / 1000))} s…`);
    state.retryTimer = setTimeout(connect, delay);
  }

  // retryDelay is the wait before the next connection attempt. A node that
  // goes away (1001) or leaves its cluster (1012) is no fault of the
  // connection: the load balancer sends the next attempt to another node, so
  // the first retry is prompt. Otherwise the wait doubles up to 30 s, with
  // jitter so that a crowd of clients does not return in lockstep.
  function retryDelay(code) {
    if (state.attempt === 0 && (code === 1001 || code === 1012)) return 200 + Math.random() * 600;
    const base = Math.min(30000, 1000 * 2 ** Math.min(state.attempt, 5));
    return base / 2 + Math.random() * (base / 2);
  }

  function disconnect() {
    state.stopped = true;
    clearTimeout(state.retryTimer);
    const ws = state.ws;
    if (ws) {
      state.ws = null;
      ws.close(1000, "signed out");
    }
    state.user = null;
    state.entered = false;
    state.current = null;
    for (const p of state.pending.values()) p.reject(new ConnectionLost("signed out"));
    state.pending.clear();
  }

  // ---- frames from the server ----------------------------------------

  function onFrame(raw) {
    let f;
    try {
      f = JSON.parse(raw);
    } catch {
      showError("the server sent a frame that is not JSON");
      return;
    }
    if (!Array.isArray(f) || typeof f[0] !== "string") return;
    const kind = f[0];
    if ((kind === "success" || kind === "error") && f.length === 3 && state.pending.has(f[1])) {
      const p = state.pending.get(f[1]);
      state.pending.delete(f[1]);
      if (kind === "success") p.resolve(f[2]);
      else p.reject(new ServerError(p.action, f[2]));
      return;
    }
    const data = f[f.length - 1];
    switch (kind) {
      case "authenticated": onAuthenticated(data); break;
      case "error": onUnsolicitedError(data); break;
      case "pong": case "success": break;
      case "room.reaction": onReaction(data); break;
      case "room.schedule": onSchedule(data); break;
      case "room.viewer.added": onViewerAdded(data); break;
      case "room.viewer.removed": onViewerRemoved(data); break;
      case "room.delete": onRoomDeleted(data); break;
      case "room.create": onRoomCreated(data); break;
      case "world.updated": onWorldUpdated(data); break;
      default: break; // other events of the API this page does not show
    }
  }

  function onUnsolicitedError(body) {
    const code = (body && body.code) || "unknown";
    if (code === "connection.replaced") {
      state.replaced = true;
      return;
    }
    if (!state.user) {
      // authenticate failed: back to the form, no reconnecting.
      showError(`authenticate: ${(body && body.message) || code} (${code})`);
      disconnect();
      setStatus("offline", "Not connected");
      showJoin();
      return;
    }
    showError(`${(body && body.message) || "error"} (${code})`);
  }

  function onAuthenticated(data) {
    state.user = data["user.config"] || {};
    state.rooms = (data["world.config"] && data["world.config"].rooms) || [];
    state.attempt = 0;
    const name = displayName(state.user);
    setStatus("online", "Connected");
    $("me-name").textContent = name;
    showApp();
    renderRooms();
    const want = state.current;
    state.current = null;
    if (want && roomByID(want)) {
      enterRoom(want, true);
    } else {
      if (want) notice("The room you were in is no longer available to you.");
      if (!want && state.invite && state.rooms.length === 1) enterRoom(state.rooms[0].id, false);
      else renderRoom();
    }
  }

  function onReaction(data) {
    if (!data || data.room !== state.current || !state.entered) return;
    const reactions = data.reactions || {};
    for (const [emoji, n] of Object.entries(reactions)) {
      if (!Number.isFinite(n) || n <= 0) continue;
      state.counts[emoji] = (state.counts[emoji] || 0) + n;
      const count = document.querySelector(`.react[data-reaction="${CSS.escape(emoji)}"] .count`);
      if (count) {
        count.textContent = String(state.counts[emoji]);
        bump(count);
        const btn = count.closest(".react");
        btn.setAttribute("aria-label", reactLabel(emoji));
        floatUp(emoji, n, btn);
      }
    }
  }

  function onSchedule(data) {
    if (!data) return;
    const room = roomByID(data.room);
    if (room) room.schedule_data = data.schedule_data || null;
    if (data.room === state.current) {
      renderSchedule(room);
      bump($("schedule"));
    }
  }

  // Viewer events carry no room id; they concern the room entered on this
  // socket, so they count only once its room.enter succeeded (events for a
  // room being left can still be on the way before that).
  function onViewerAdded(data) {
    if (!state.entered || !state.viewers || !data || !data.user || !data.user.id) return;
    state.viewers.set(data.user.id, data.user); // de-duplicated by id
    renderViewers();
  }

  function onViewerRemoved(data) {
    if (!state.entered || !state.viewers || !data) return;
    if (state.viewers.delete(data.user_id)) renderViewers();
  }

  function onRoomDeleted(data) {
    if (!data) return;
    const room = roomByID(data.id);
    state.rooms = state.rooms.filter((r) => r.id !== data.id);
    renderRooms();
    if (data.id === state.current) {
      state.current = null;
      state.entered = false;
      notice(`The room “${room ? room.name : data.id}” was deleted.`);
      renderRoom();
    }
  }

  function onRoomCreated(data) {
    if (!data || !data.id || roomByID(data.id)) return;
    state.rooms.push(data);
    renderRooms();
  }

  function onWorldUpdated(data) {
    if (!data || !Array.isArray(data.rooms)) return;
    state.rooms = data.rooms;
    renderRooms();
    if (state.current && !roomByID(state.current)) {
      state.current = null;
      state.entered = false;
      notice("The room you were in is no longer available to you.");
    }
    renderRoom();
  }

  // ---- actions --------------------------------------------------------

  async function enterRoom(id, again) {
    if (id === state.current && (state.entered || !again)) return;
    const prev = state.entered ? state.current : null;
    state.current = id;
    state.entered = false;
    state.viewers = null;
    if (!again) state.counts = {};
    notice("");
    renderRooms();
    renderRoom();
    if (prev && prev !== id) {
      request("room.leave", { room: prev }).catch(showServerError);
    }
    let res;
    try {
      res = await request("room.enter", { room: id });
    } catch (err) {
      if (state.current === id) {
        state.current = null;
        renderRooms();
        renderRoom();
      }
      showServerError(err);
      return;
    }
    if (state.current !== id) return; // another room was picked meanwhile
    state.entered = true;
    state.viewers = Array.isArray(res && res.viewers) ? new Map(res.viewers.map((u) => [u.id, u])) : null;
    renderRoom();
  }

  async function react(emoji, button) {
    const room = state.current;
    if (!room || !state.entered) return;
    button.classList.remove("sent");
    void button.offsetWidth; // restart the animation
    button.classList.add("sent");
    try {
      await request("room.react", { room, reaction: emoji });
    } catch (err) {
      showServerError(err);
    }
  }

  // ---- rendering ------------------------------------------------------

  function displayName(user) {
    const p = (user && user.profile) || {};
    return p.display_name || [p.firstName, p.lastName].filter(Boolean).join(" ") || "Anonymous";
  }

  function roomByID(id) {
    return state.rooms.find((r) => r.id === id);
  }

  function hasPerm(room, perm) {
    return !!room && Array.isArray(room.permissions) && room.permissions.includes(perm);
  }

  function reactLabel(emoji) {
    const n = state.counts[emoji] || 0;
    return `React with ${reactionNames[emoji] || emoji} (${emoji}), ${n} so far`;
  }

  function bump(e) {
    e.classList.remove("bump");
    void e.offsetWidth;
    e.classList.add("bump");
  }

  function floatUp(emoji, n, button) {
    const stage = $("reaction-stage");
    const sr = stage.getBoundingClientRect();
    const br = button.getBoundingClientRect();
    for (let i = 0; i < Math.min(n, maxFloaters); i++) {
      const f = h("span", { className: "floater", textContent: emoji });
      f.style.left = `${br.left - sr.left + br.width / 2 + (Math.random() - 0.5) * 40}px`;
      f.style.top = `${br.top - sr.top}px`;
      f.style.animationDelay = `${i * 90}ms`;
      stage.append(f);
      setTimeout(() => f.remove(), 1600 + i * 90);
    }
  }

  function showJoin() {
    $("join").hidden = false;
    $("app").hidden = true;
    $("me").hidden = true;
  }

  function showApp() {
    $("join").hidden = true;
    $("app").hidden = false;
    $("me").hidden = false;
  }

  function renderRooms() {
    const list = $("room-list");
    $("no-rooms").hidden = state.rooms.length > 0;
    // Rebuild only when the rooms changed, so the focused button stays.
    const key = JSON.stringify(state.rooms.map((r) => [r.id, r.name, r.description]));
    if (list.dataset.key === key) {
      for (const b of list.querySelectorAll("button[data-room]")) {
        if (b.dataset.room === state.current) b.setAttribute("aria-current", "true");
        else b.removeAttribute("aria-current");
      }
      return;
    }
    list.dataset.key = key;
    list.replaceChildren(...state.rooms.map((r) => {
      const b = h("button", { type: "button", className: "room-button", dataset: { room: r.id } },
        h("span", { className: "room-name", textContent: r.name || r.id }),
        r.description ? h("span", { className: "room-desc", textContent: r.description }) : null);
      if (r.id === state.current) b.setAttribute("aria-current", "true");
      b.addEventListener("click", () => enterRoom(r.id, false));
      return h("li", {}, b);
    }));
  }

  function renderRoom() {
    const room = state.current ? roomByID(state.current) : null;
    $("room-empty").hidden = !!room;
    const body = $("room-body");
    body.hidden = !room;
    if (!room) {
      delete body.dataset.room;
      return;
    }
    body.dataset.room = room.id;
    body.dataset.entered = String(state.entered);
    $("room-title").textContent = room.name || room.id;
    $("room-desc").textContent = room.description || "";
    renderSchedule(room);
    renderReactions(room);
    renderViewers();
  }

  function renderSchedule(room) {
    const s = (room && room.schedule_data) || {};
    const title = typeof s.title === "string" && s.title ? s.title : "";
    $("schedule-title").textContent = title || (s.session != null ? "" : "Nothing scheduled right now.");
    const session = $("schedule-session");
    session.hidden = s.session == null;
    session.textContent = s.session == null ? "" : `Session ${s.session}`;
  }

  function renderReactions(room) {
    const allowed = Array.isArray(room.allowed_reactions) && room.allowed_reactions.length
      ? room.allowed_reactions : defaultReactions;
    const may = hasPerm(room, "room:react");
    const box = $("reaction-buttons");
    const have = Array.from(box.children, (b) => b.dataset.reaction).join("\u0000");
    if (have !== allowed.join("\u0000")) {
      box.replaceChildren(...allowed.map((emoji) => {
        const b = h("button", { type: "button", className: "react", dataset: { reaction: emoji } },
          h("span", { className: "emoji", textContent: emoji, "aria-hidden": "true" }),
          h("span", { className: "count", textContent: "0" }));
        b.addEventListener("click", () => react(emoji, b));
        return b;
      }));
    }
    for (const b of box.children) {
      const emoji = b.dataset.reaction;
      b.querySelector(".count").textContent = String(state.counts[emoji] || 0);
      b.setAttribute("aria-label", reactLabel(emoji));
      b.disabled = !may || !state.entered;
    }
    $("react-note").hidden = may;
  }

  function renderViewers() {
    const room = state.current ? roomByID(state.current) : null;
    const list = $("viewer-list");
    const note = $("viewers-note");
    const count = $("viewer-count");
    if (!state.entered) {
      list.hidden = true;
      count.hidden = true;
      note.hidden = false;
      note.textContent = state.ws ? "Entering the room…" : "Not connected.";
      return;
    }
    if (!state.viewers) {
      list.hidden = true;
      count.hidden = true;
      note.hidden = false;
      note.dataset.reason = "no-permission";
      note.textContent = hasPerm(room, "room:viewers")
        ? "This room does not show its viewers."
        : "Who is here, and how many, is shown only to users with the room:viewers permission (moderators); you do not have it in this room.";
      return;
    }
    delete note.dataset.reason;
    note.hidden = true;
    const viewers = Array.from(state.viewers.values())
      .sort((a, b) => displayName(a).localeCompare(displayName(b)));
    list.replaceChildren(...viewers.map((u) => {
      const you = state.user && u.id === state.user.id;
      return h("li", { dataset: { user: u.id } },
        h("span", { className: "avatar", textContent: initials(displayName(u)), "aria-hidden": "true" }),
        h("span", { className: "viewer-name", textContent: displayName(u) }),
        you ? h("span", { className: "chip", textContent: "you" }) : null);
    }));
    list.hidden = false;
    count.hidden = false;
    count.textContent = String(viewers.length);
    count.setAttribute("aria-label", `${viewers.length} ${viewers.length === 1 ? "viewer" : "viewers"}`);
  }

  function initials(name) {
    return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => Array.from(w)[0].toUpperCase()).join("") || "?";
  }

  // ---- wiring ---------------------------------------------------------

  function onJoin(ev) {
    ev.preventDefault();
    const name = $("display-name").value.trim();
    const token = $("token").value.trim();
    const nameError = $("name-error");
    nameError.hidden = !!(name || token);
    $("display-name").setAttribute("aria-invalid", String(!(name || token)));
    if (!name && !token) {
      $("display-name").focus();
      return;
    }
    if (name) storage.set("display_name", name);
    const profile = { display_name: name };
    if (token) state.creds = { token };
    else if (state.invite) state.creds = { client_id: clientID(), invite_token: state.invite, profile };
    else state.creds = { client_id: clientID(), profile };
    $("errors").replaceChildren();
    notice("");
    state.stopped = false;
    state.attempt = 0;
    connect();
  }

  function init() {
    $("world-id").textContent = world;
    $("display-name").value = storage.get("display_name") || "";
    if (state.invite) {
      $("invite-note").hidden = false;
      $("token-details").hidden = true;
      $("join-button").textContent = "Join the room";
    }
    $("join-form").addEventListener("submit", onJoin);
    $("token").addEventListener("input", () => {
      $("join-button").textContent = $("token").value.trim() ? "Sign in" : (state.invite ? "Join the room" : "Join as guest");
    });
    $("signout").addEventListener("click", () => {
      disconnect();
      state.rooms = [];
      state.counts = {};
      setStatus("offline", "Not connected");
      notice("");
      showJoin();
    });
    $("retry").addEventListener("click", () => {
      if (!state.stopped) connect();
    });
    window.addEventListener("online", () => {
      if (!state.stopped && !state.ws) connect();
    });
    showJoin();
  }

  init();
})();
