"""Datagrams for the UDP tests, written here independently of the library:
v2 headers (haproxy doc/proxy-protocol.txt §2.2) with UDP families, bad
ones of each kind, and a CRC32C from its definition."""
import ipaddress
import struct

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def header(src, sport, dst="127.0.0.1", dport=53, command=0x21, family=None,
           tlvs=b"", checksum=False):
    s = ipaddress.ip_address(src)
    d = ipaddress.ip_address(dst)
    if s.version != d.version:
        s = ipaddress.IPv6Address("::ffff:" + str(s)) if s.version == 4 else s
        d = ipaddress.IPv6Address("::ffff:" + str(d)) if d.version == 4 else d
    if family is None:
        family = 0x12 if s.version == 4 else 0x22
    body = s.packed + d.packed + struct.pack(">HH", sport, dport) + tlvs
    if checksum:
        body += b"\x03\x00\x04" + b"\x00" * 4
    out = bytearray(SIGNATURE + bytes([command, family]) +
                    struct.pack(">H", len(body)) + body)
    if checksum:
        out[-4:] = struct.pack(">I", crc32c(bytes(out)))
    return bytes(out)


def bad_checksum(src, sport):
    h = bytearray(header(src, sport, checksum=True))
    h[-1] ^= 0xFF
    return bytes(h)


def longer_than_datagram(src, sport):
    h = bytearray(header(src, sport))
    h[15] += 40
    return bytes(h)


def bad_version(src, sport):
    h = bytearray(header(src, sport))
    h[12] = 0x11
    return bytes(h)


def truncated():
    return SIGNATURE[:10]


def local():
    return SIGNATURE + b"\x20\x00\x00\x00"


def dns_query(name, qid=0x1234):
    """A DNS query for NAME, type A, class IN, recursion desired."""
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", 1, 1)


def dns_answer_addresses(reply):
    """The A records of a DNS reply, as text (enough for the tests' zones)."""
    qid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", reply[:12])
    pos = 12
    for _ in range(qd):
        while reply[pos] != 0:
            pos += reply[pos] + 1
        pos += 5
    out = []
    for _ in range(an):
        if reply[pos] & 0xC0 == 0xC0:
            pos += 2
        else:
            while reply[pos] != 0:
                pos += reply[pos] + 1
            pos += 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", reply[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            out.append(str(ipaddress.IPv4Address(reply[pos:pos + 4])))
        pos += rdlen
    return flags & 0xF, out
