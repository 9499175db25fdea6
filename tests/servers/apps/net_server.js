// A Node.js net echo server for tests/servers/apps.sh.
// Prints "listening" once bound, then "peer ADDRESS PORT" for each
// connection (socket.remoteAddress / remotePort), and echoes what it reads.
// Usage: node net_server.js PORT
'use strict';
const net = require('net');
const server = net.createServer((socket) => {
  console.log(`peer ${socket.remoteAddress} ${socket.remotePort}`);
  socket.pipe(socket);
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => {
  console.log('listening');
});
