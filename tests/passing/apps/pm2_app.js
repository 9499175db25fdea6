// The application pm2 runs in cluster mode (pm2 start pm2_app.js -i 2): pm2's
// daemon is the cluster primary that accepts and passes each connection to
// an instance. Each instance prints what socket.remoteAddress and remotePort
// say. The port comes from PP_PORT.
'use strict';
const net = require('net');

const instance = process.env.NODE_APP_INSTANCE;
net.createServer((socket) => {
  console.log(`conn instance=${instance} peer=${socket.remoteAddress} ${socket.remotePort}`);
  socket.end('ok\n');
}).listen(Number(process.env.PP_PORT), '127.0.0.1', () => {
  console.log(`listening instance=${instance}`);
});
