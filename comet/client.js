// duplex comet client: one session over WebSocket, Server-Sent Events,
// XHR streaming or long polling, with fallback, reconnection with backoff
// and resumption by sequence number, so that every message is delivered once and in
// order. No dependencies; served by the Go package at {prefix}/client.js.
//
//   import { connect } from '/comet/client.js';
//   const s = connect('/comet', { onmessage: (data) => console.log(data) });
//   s.send('hello');
//
// Transports: 'websocket', 'sse' (Server-Sent Events), 'stream' (XHR streaming),
// 'iframe' (the forever iframe), 'poll' (long polling) and 'shortpoll' (a
// request every pollInterval ms, answered at once).
//
// Options: transports (default ['websocket', 'sse', 'stream', 'poll']),
// pollInterval (ms, default 1000, for 'shortpoll'),
// onmessage(data, event), onopen(transport), onclose(reason), openTimeout
// (ms, default 3000). data is a string, or a Uint8Array for a binary message;
// event is the message's event name, if it has one. send(data, event) takes
// a string, an ArrayBuffer or a typed array.
export function connect(base, opts = {}) {
  const transports = opts.transports || ['websocket', 'sse', 'stream', 'poll'];
  const openTimeout = opts.openTimeout || 3000;
  let id = null;
  let heartbeatMs = 15000; // the server's, from its answer to open
  let last = 0;          // highest server seq delivered
  let outSeq = 0;        // last client seq assigned
  const outbox = [];     // client messages not yet accepted by the server
  let closed = false;
  let current = null;    // { name, stop() }
  let ackTimer = null;
  let backoff = 250;
  const session = { transport: null, send, close, get id() { return id; } };

  const deliver = (m) => {
    if (m.seq !== last + 1) return; // a resend of something already delivered
    last = m.seq;
    const data = m.binary ? Uint8Array.from(atob(m.data), (c) => c.charCodeAt(0)) : m.data;
    if (opts.onmessage) opts.onmessage(data, m.event);
  };
  const url = (op, extra = '') => `${base}/${op}?id=${id}&ack=${last}${extra}`;
  const finish = (reason) => {
    if (closed) return;
    closed = true;
    if (current) current.stop();
    if (opts.onclose) opts.onclose(reason);
  };
  const gone = (status) => status === 404 || status === 410;

  async function flush() {
    while (outbox.length && !closed && !liveSock) {
      const batch = outbox.slice();
      let r;
      try {
        r = await fetch(url('send'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch) });
      } catch (e) { await sleep(backoff); continue; }
      if (gone(r.status)) return finish('session gone');
      if (r.status === 204) confirmed(batch[batch.length - 1].seq);
      else await sleep(500);
    }
  }
  // The streaming transports acknowledge by request: an empty POST carrying
  // the ack lets the server free its queue. One per second at most, or at
  // once when 64 messages are waiting: each POST costs a request's
  // headers, and the server keeps what is unacknowledged (QueueLen) in
  // case the stream breaks.
  let unacked = 0;
  async function sendAck() {
    clearTimeout(ackTimer);
    ackTimer = null;
    unacked = 0;
    try { await fetch(url('send'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[]' }); } catch (e) {}
  }
  function scheduleAck() {
    if (++unacked >= 64) { sendAck(); return; }
    if (!ackTimer) ackTimer = setTimeout(sendAck, 1000);
  }

  let liveSock = null; // the open WebSocket, if the session runs on one
  function send(data, event) {
    const m = { seq: ++outSeq };
    if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      let bin = '';
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      m.data = btoa(bin);
      m.binary = true;
    } else {
      m.data = String(data);
    }
    if (event) m.event = String(event);
    outbox.push(m);
    if (liveSock) liveSock.send(JSON.stringify(m)); // kept in outbox until {"in"} covers it
    else if (outbox.length === 1) flush();
  }
  // The server confirmed client messages up to n.
  const confirmed = (n) => { while (outbox.length && outbox[0].seq <= n) outbox.shift(); };
  function close() { finish('closed by client'); }

  function tryWebSocket() {
    return new Promise((resolve) => {
      const wsURL = new URL(url('ws'), location.href);
      wsURL.protocol = wsURL.protocol === 'https:' ? 'wss:' : 'ws:';
      let opened = false;
      const sock = new WebSocket(wsURL);
      const timer = setTimeout(() => { if (!opened) { sock.close(); resolve('failed'); } }, openTimeout);
      current = { name: 'websocket', stop: () => sock.close(1000) };
      sock.onopen = () => {
        opened = true; clearTimeout(timer);
        liveSock = sock;
        for (const m of outbox) sock.send(JSON.stringify(m)); // the server drops what it has
        started('websocket');
      };
      sock.onmessage = (e) => {
        const m = JSON.parse(e.data);
        if (m.in !== undefined) { confirmed(m.in); return; }
        deliver(m);
        sock.send(JSON.stringify({ ack: last }));
      };
      sock.onclose = (e) => {
        clearTimeout(timer);
        if (liveSock === sock) liveSock = null;
        if (outbox.length) flush(); // what the socket did not confirm goes by POST
        if (e.code === 1001) return finish(e.reason || 'server closed');
        resolve(opened ? 'dropped' : 'failed');
      };
    });
  }

  function trySSE() {
    return new Promise((resolve) => {
      let opened = false;
      const es = new EventSource(url('sse'));
      const timer = setTimeout(() => { if (!opened) { es.close(); resolve('failed'); } }, openTimeout);
      current = { name: 'sse', stop: () => es.close() };
      es.onopen = () => { opened = true; clearTimeout(timer); started('sse'); };
      es.onmessage = (e) => { deliver(Object.assign(JSON.parse(e.data), { seq: Number(e.lastEventId) })); scheduleAck(); };
      es.addEventListener('close', (e) => { es.close(); finish(e.data || 'server closed'); });
      es.onerror = () => {
        // EventSource reconnects by itself, resuming with Last-Event-ID;
        // give up on it only if it never opened.
        if (!opened || es.readyState === EventSource.CLOSED) { clearTimeout(timer); es.close(); resolve(opened ? 'dropped' : 'failed'); }
      };
    });
  }

  // XHR streaming: newline-delimited JSON read from a fetch body.
  async function tryStream() {
    let stop = false;
    const ctrl = new AbortController();
    current = { name: 'stream', stop: () => { stop = true; ctrl.abort(); } };
    let r;
    try { r = await fetch(url('stream'), { signal: ctrl.signal }); } catch (e) { return 'failed'; }
    if (gone(r.status)) { finish('session gone'); return 'gone'; }
    if (r.status !== 200 || !r.body) return 'failed';
    started('stream');
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'dropped';
        buf += value;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (!line) continue; // padding and heartbeats
          const m = JSON.parse(line);
          if (m.closed !== undefined) { finish(m.closed || 'server closed'); return 'gone'; }
          deliver(m);
          scheduleAck();
        }
      }
    } catch (e) {
      return stop ? 'stopped' : 'dropped';
    }
  }

  // The forever iframe: the server's scripts call duplexComet(frame name,
  // message) on this window.
  function tryIframe() {
    return new Promise((resolve) => {
      let opened = false;
      const frame = document.createElement('iframe');
      frame.style.display = 'none';
      frame.name = 'duplex-' + id + '-' + Math.random().toString(36).slice(2);
      const end = (result) => {
        delete iframes[frame.name]; frame.remove(); clearTimeout(timer); clearInterval(watch); resolve(result);
      };
      const timer = setTimeout(() => { if (!opened) end('failed'); }, openTimeout);
      current = { name: 'iframe', stop: () => end('stopped') };
      // Browsers fire no event when a forever iframe's connection breaks:
      // the server's heartbeat scripts show it is alive.
      let seen = Date.now();
      const watch = setInterval(() => { if (Date.now() - seen > 2 * heartbeatMs + 1000) end('dropped'); }, heartbeatMs);
      iframes[frame.name] = (m) => {
        seen = Date.now();
        if (m.hb) return;
        if (m.open) { opened = true; clearTimeout(timer); started('iframe'); return; }
        if (m.closed !== undefined) { end('gone'); finish(m.closed || 'server closed'); return; }
        deliver(m);
        scheduleAck();
      };
      // The document of a forever iframe ends only when its response does.
      frame.onload = () => end(opened ? 'dropped' : 'failed');
      frame.src = url('iframe');
      document.body.appendChild(frame);
    });
  }

  async function tryPoll(short) {
    let stop = false;
    const name = short ? 'shortpoll' : 'poll';
    current = { name, stop: () => { stop = true; } };
    let first = true;
    while (!stop && !closed) {
      let r;
      try { r = await fetch(url('poll', short ? '&wait=0' : '')); } catch (e) { first = true; await sleep(backoff); backoff = Math.min(backoff * 2, 5000); continue; }
      if (gone(r.status)) { finish('session gone'); return 'gone'; }
      if (r.status !== 200) { await sleep(backoff); continue; }
      if (first) { first = false; started(name); }
      const body = await r.json();
      for (const m of body.messages) deliver(m);
      if (body.closed) { finish('server closed'); return 'gone'; }
      if (short) await sleep(opts.pollInterval || 1000);
    }
    return 'stopped';
  }

  function started(name) {
    backoff = 250;
    session.transport = name;
    if (opts.onopen) opts.onopen(name);
  }

  async function run() {
    let r;
    try { r = await fetch(`${base}/open`, { method: 'POST' }); } catch (e) { return finish('cannot open: ' + e); }
    if (r.status !== 200) return finish('cannot open: HTTP ' + r.status);
    ({ id, heartbeatMs } = await r.json());
    let i = 0;
    while (!closed) {
      const name = transports[Math.min(i, transports.length - 1)];
      const attempt = {
        websocket: tryWebSocket, sse: trySSE, stream: tryStream, iframe: tryIframe,
        poll: () => tryPoll(false), shortpoll: () => tryPoll(true),
      }[name] || (() => tryPoll(false));
      const result = await attempt();
      if (closed || result === 'gone') return;
      if (result === 'failed') i++; // fall back
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 5000);
    }
  }
  run();
  return session;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The forever iframes of every session on this page, by frame name.
const iframes = {};
if (typeof window !== 'undefined') window.duplexComet = (name, m) => { if (iframes[name]) iframes[name](m); };
