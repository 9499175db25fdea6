#!/usr/bin/env python3
"""An asyncio DatagramProtocol echo server for tests/udp/receive_calls.py:
prints "port N", then "dgram from=ADDR:PORT data=HEX" for each datagram and
answers "echo:" + payload to the address asyncio was given."""
import asyncio
import sys


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        print(f"dgram from={addr[0]}:{addr[1]} data={data.hex()}", flush=True)
        self.transport.sendto(b"echo:" + data, addr)


async def main():
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        Echo, local_addr=("127.0.0.1", 0))
    print(f"port {transport.get_extra_info('sockname')[1]}", flush=True)
    await asyncio.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 20)
    transport.close()


asyncio.run(main())
