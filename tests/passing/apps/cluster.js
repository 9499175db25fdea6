// A Node.js cluster with round-robin scheduling (the default on Linux made
// explicit): the primary accepts every connection and passes it to one of
// two workers over IPC. Each worker prints what socket.remoteAddress and
// remotePort say. Usage: node cluster.js PORT
'use strict';
const cluster = require('cluster');
const net = require('net');

cluster.schedulingPolicy = cluster.SCHED_RR;
const port = Number(process.argv[2]);

if (cluster.isPrimary) {
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === 2) console.log(`port ${port}`);
  });
  for (let i = 0; i < 2; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const id in cluster.workers) cluster.workers[id].kill();
    process.exit(0);
  });
} else {
  net.createServer((socket) => {
    console.log(`conn worker=${cluster.worker.id} peer=${socket.remoteAddress} ${socket.remotePort}`);
    socket.end('ok\n');
  }).listen(port, '127.0.0.1');
}
