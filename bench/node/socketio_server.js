// A socket.io server for duplex's comet benchmarks: polling only, on the
// port given (0: any), printing "listening PORT" when ready. POST
// /publish?n=N emits N "message" events, each the request body, to every
// client, and answers when they are queued.
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const httpServer = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url.startsWith('/publish')) {
    const n = Number(new URL(req.url, 'http://x').searchParams.get('n') || '1');
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      for (let i = 0; i < n; i++) io.emit('message', body.length === 64 ? body : body);
      res.end('ok');
    });
    return;
  }
  if (req.url === '/count') { res.end(String(io.engine.clientsCount)); return; }
});
const io = new Server(httpServer, { transports: ['polling'], pingInterval: 25000, pingTimeout: 20000 });
httpServer.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write('listening ' + httpServer.address().port + '\n');
});
