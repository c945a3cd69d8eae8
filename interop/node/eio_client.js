// The real Engine.IO and Socket.IO clients against a duplex server:
//   node eio_client.js eio|sio URL TRANSPORTS
// Receives messages until "end", echoes each one back (binary as binary,
// text as "echo:" + text), and for Socket.IO also emits a "chat" event
// with an acknowledgement. Prints one JSON line: what arrived, the
// transports used, whether the ack came back.
'use strict';

const [mode, url, transportList] = process.argv.slice(2);
const transports = transportList.split(',');
const got = [];
const used = new Set();
let acked = false;
const timer = setTimeout(() => finish('timeout'), 30000);

function show(d) {
  if (typeof d === 'string') return d;
  const b = Buffer.from(d instanceof ArrayBuffer ? new Uint8Array(d) : d);
  return 'bin:' + b.toString('hex');
}

function finish(error) {
  clearTimeout(timer);
  process.stdout.write(JSON.stringify({ got, transports: [...used], acked, error }) + '\n');
  process.exit(0);
}

if (mode === 'eio') {
  const { Socket } = require('engine.io-client');
  const socket = new Socket(url, { transports, path: '/engine.io/' });
  socket.on('open', () => { used.add(socket.transport.name); socket.send('ready'); });
  socket.on('upgrade', (t) => used.add(t.name));
  socket.on('message', (d) => {
    if (d === 'end') { socket.close(); return finish(); }
    got.push(show(d));
    socket.send(typeof d === 'string' ? 'echo:' + d : d);
  });
  socket.on('error', (e) => finish(String(e)));
} else {
  const { io } = require('socket.io-client');
  const socket = io(url, { transports, path: '/socket.io/', reconnection: false });
  socket.io.on('open', () => {
    used.add(socket.io.engine.transport.name);
    socket.io.engine.on('upgrade', (t) => used.add(t.name));
  });
  socket.on('connect', () => {
    socket.emit('chat', 'hello', { n: 1 }, () => { acked = true; });
    socket.send('ready');
  });
  socket.on('message', (d) => {
    if (d === 'end') { socket.close(); return finish(); }
    got.push(show(d));
    socket.send(typeof d === 'string' ? 'echo:' + d : d);
  });
  socket.on('connect_error', (e) => finish(String(e)));
}
