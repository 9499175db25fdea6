// A Node.js dgram echo server for tests/udp/receive_calls.py: prints
// "port N", then "dgram from=ADDR:PORT data=HEX" per message (rinfo is what
// libuv's recvmsg gave), answering "echo:" + payload to rinfo.
const dgram = require('dgram');
const s = dgram.createSocket('udp4');
s.on('message', (msg, rinfo) => {
  console.log(`dgram from=${rinfo.address}:${rinfo.port} data=${msg.toString('hex')}`);
  s.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address);
});
s.bind(0, '127.0.0.1', () => console.log(`port ${s.address().port}`));
setTimeout(() => process.exit(0), (Number(process.argv[2]) || 20) * 1000);
