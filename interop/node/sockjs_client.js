// The real sockjs-client against a duplex server:
//   node sockjs_client.js URL TRANSPORT
// Receives messages until "end", echoing each one back as "echo:" + text.
// Prints one JSON line: what arrived and the transport used.
'use strict';
const SockJS = require('sockjs-client');

const [url, transport] = process.argv.slice(2);
const got = [];
const timer = setTimeout(() => finish('timeout'), 30000);
let sock;
let used = null;

function finish(error) {
  clearTimeout(timer);
  process.stdout.write(JSON.stringify({ got, transport: used, error }) + '\n');
  process.exit(0);
}

sock = new SockJS(url, null, { transports: [transport] });
sock.onopen = () => { used = sock.transport; sock.send('ready'); };
sock.onmessage = (e) => {
  if (e.data === 'end') { sock.close(); return finish(); }
  got.push(e.data);
  sock.send('echo:' + e.data);
};
sock.onclose = (e) => finish('closed: ' + e.code + ' ' + e.reason);
