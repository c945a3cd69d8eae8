// Node ws client for duplex's interop tests: connects to argv[2], echoes a
// deterministic series of messages through the server and compares each
// echo, then closes with 4000. Prints one JSON line with the outcome.
'use strict';
const WebSocket = require('ws');

const url = process.argv[2];
const compress = process.argv[3] === 'deflate';
const count = parseInt(process.argv[4] || '200', 10);

let seed = 12345;
function rnd(n) {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}
const sizes = [0, 1, 125, 126, 127, 1000, 65535, 65536, 200000];
function makeMessage(i) {
  const size = i < sizes.length ? sizes[i] : rnd(70000);
  const binary = i % 2 === 1;
  if (binary) {
    const b = Buffer.alloc(size);
    for (let k = 0; k < size; k++) b[k] = rnd(256);
    return { data: b, binary };
  }
  // Characters of one to four bytes in UTF-8 (the last a surrogate pair).
  const chars = ['a', 'b', 'c', ' ', 'κ', 'ό', '€', '𝄞'];
  const parts = [];
  let bytes = 0;
  while (bytes < size) {
    const c = chars[rnd(chars.length)];
    parts.push(c);
    bytes += Buffer.byteLength(c);
  }
  return { data: parts.join(''), binary };
}

const ws = new WebSocket(url, { perMessageDeflate: compress });
let i = 0;
let current;
const fail = (why) => { console.log(JSON.stringify({ ok: false, why, i })); process.exit(1); };
function next() {
  if (i === count) { ws.close(4000, 'done'); return; }
  current = makeMessage(i);
  // Every fifth message goes out fragmented in three frames.
  if (i % 5 === 4 && !current.binary && current.data.length > 3) {
    const d = Buffer.from(current.data);
    const a = Math.floor(d.length / 3);
    ws.send(d.subarray(0, a), { binary: false, fin: false });
    ws.send(d.subarray(a, 2 * a), { binary: false, fin: false });
    ws.send(d.subarray(2 * a), { binary: false, fin: true });
  } else {
    ws.send(current.data, { binary: current.binary });
  }
}
ws.on('open', () => { console.error('open, extensions:', ws.extensions); next(); });
ws.on('message', (data, isBinary) => {
  if (isBinary !== current.binary) fail('type differs');
  const want = current.binary ? current.data : Buffer.from(current.data);
  if (!Buffer.from(data).equals(want)) fail('payload differs');
  i++;
  next();
});
ws.on('close', (code, reason) => {
  console.log(JSON.stringify({ ok: i === count, messages: i, code, reason: reason.toString(), extensions: ws.extensions }));
  process.exit(i === count ? 0 : 1);
});
ws.on('error', (e) => fail(String(e)));
setTimeout(() => fail('timeout'), 60000);
