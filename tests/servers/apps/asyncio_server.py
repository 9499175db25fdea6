"""A Python asyncio TCP echo server for tests/servers/apps.sh.

Prints "listening" once bound, then "peer ADDRESS PORT" for each connection
(the transport's peername, i.e. getpeername()), and echoes what it reads.
Usage: python3 asyncio_server.py PORT
"""
import asyncio
import sys


async def handle(reader, writer):
    peer = writer.get_extra_info("peername")
    print(f"peer {peer[0]} {peer[1]}", flush=True)
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
