// Node ws echo server for duplex's interop tests. argv[2]: "deflate",
// "deflate-nocontext" or "plain". Prints the port, then echoes until
// killed; prints each close code it sees on stderr.
'use strict';
const WebSocket = require('ws');

const mode = process.argv[2] || 'plain';
let perMessageDeflate = false;
if (mode === 'deflate') perMessageDeflate = { threshold: 0 };
if (mode === 'deflate-nocontext') {
  perMessageDeflate = { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true };
}
const wss = new WebSocket.Server({ host: '127.0.0.1', port: 0, perMessageDeflate }, () => {
  console.log(wss.address().port);
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code, reason) => console.error('close', code, reason.toString(), ws.extensions));
});
setTimeout(() => process.exit(0), 120000);
