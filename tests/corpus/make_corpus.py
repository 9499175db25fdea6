#!/usr/bin/env python3
"""Generates the PROXY protocol header corpus under tests/corpus.

Each case is a directory valid/<case>/ or invalid/<case>/ holding:
  input.bin  the bytes at the start of a stream (header, maybe app data)
  expected   what parse_header(input, versions = v1|v2) must say, one fact
             per line, "key value...":

    status complete|invalid        (valid/ cases: complete; invalid/: invalid)
    defect <defect_name()>         invalid only: the enum identifier
    length N                       complete only: header bytes, data excluded
    version 1|2
    command local|proxy
    family unspec|inet|inet6|unix
    transport unspec|stream|dgram
    source ADDRESS PORT            inet/inet6: address in any inet_pton form
    destination ADDRESS PORT
    tlvs_length N                  v2 inet/inet6/unix: bytes after addresses
    unix_source PATH               v2 unix: the NUL-terminated path
    unix_destination PATH

Blank lines and lines starting with '#' are ignored; any other key is an
error in the test. The expectations are written here by hand from
haproxy:doc/proxy-protocol.txt, not derived from the parser.

Run it from anywhere: python3 tests/corpus/make_corpus.py. It rewrites the
valid/ and invalid/ directories completely and is deterministic.
"""

import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SIG = b"\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A"


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def v2(ver_cmd, fam, payload):
    return SIG + bytes([ver_cmd, fam]) + struct.pack(">H", len(payload)) + payload


def tlv(type_, value):
    return bytes([type_]) + struct.pack(">H", len(value)) + value


def inet_block(src="192.0.2.1", dst="198.51.100.2", sport=4321, dport=443):
    a = bytes(int(x) for x in src.split("."))
    b = bytes(int(x) for x in dst.split("."))
    return a + b + struct.pack(">HH", sport, dport)


def inet6_block(src, dst, sport, dport):
    import ipaddress
    return (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
            + struct.pack(">HH", sport, dport))


def unix_block(src, dst):
    return src.encode().ljust(108, b"\0") + dst.encode().ljust(108, b"\0")


def with_crc(header, tlv_offset):
    """Fills the 4-byte value of the CRC32C TLV starting at tlv_offset."""
    value = tlv_offset + 3
    zeroed = header[:value] + b"\0\0\0\0" + header[value + 4:]
    return zeroed[:value] + struct.pack(">I", crc32c(zeroed)) + zeroed[value + 4:]


CRC_TLV = tlv(0x03, b"\0\0\0\0")
APP_DATA = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"

cases = []  # (kind, name, input, expected lines)


def valid(name, data, *facts):
    cases.append(("valid", name, data, ["status complete"] + list(facts)))


def invalid(name, data, defect):
    cases.append(("invalid", name, data, ["status invalid", "defect " + defect]))


def v1_facts(length, family, src=None, dst=None):
    facts = ["length %d" % length, "version 1", "command proxy",
             "family " + family, "transport stream"]
    if src:
        facts += ["source " + src, "destination " + dst]
    return facts


# ---- v1, valid ---------------------------------------------------------------
line = b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
valid("v1_tcp4_spec_example", line + APP_DATA,
      *v1_facts(len(line), "inet", "192.168.0.1 56324", "192.168.0.11 443"))
line = b"PROXY TCP4 10.0.0.1 10.0.0.2 0 0\r\n"
valid("v1_tcp4_port_zero", line, *v1_facts(len(line), "inet", "10.0.0.1 0", "10.0.0.2 0"))
line = b"PROXY TCP4 0.0.0.0 255.255.255.255 65535 1\r\n"
valid("v1_tcp4_extremes", line,
      *v1_facts(len(line), "inet", "0.0.0.0 65535", "255.255.255.255 1"))
line = b"PROXY TCP6 2001:db8::1 ::1 1 65535\r\n"
valid("v1_tcp6_compressed", line,
      *v1_facts(len(line), "inet6", "2001:db8::1 1", "::1 65535"))
line = b"PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0001 FE80::A 8080 443\r\n"
valid("v1_tcp6_full_and_uppercase", line,
      *v1_facts(len(line), "inet6", "2001:db8::1 8080", "fe80::a 443"))
line = b"PROXY TCP6 ::ffff:192.0.2.1 ::ffff:198.51.100.2 1234 80\r\n"
valid("v1_tcp6_mapped", line,
      *v1_facts(len(line), "inet6", "::ffff:c000:201 1234", "::ffff:c633:6402 80"))
line = b"PROXY TCP6 :: 1:2:3:4:5:6:7:8 1 2\r\n"
valid("v1_tcp6_all_zero_and_full", line,
      *v1_facts(len(line), "inet6", ":: 1", "1:2:3:4:5:6:7:8 2"))
ffff = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
line = ("PROXY TCP6 %s %s 65535 65535\r\n" % (ffff, ffff)).encode()
assert len(line) == 104
valid("v1_tcp6_longest_addresses", line,
      *v1_facts(104, "inet6", ffff + " 65535", ffff + " 65535"))
line = (b"PROXY TCP6 0000:0000:0000:0000:0000:ffff:255.255.255.255 "
        b"ffff:ffff:ffff:ffff:ffff:ffff:ffff:f 65535 65535\r\n")
assert len(line) == 107
valid("v1_tcp6_107_bytes", line,
      *v1_facts(107, "inet6", "::ffff:255.255.255.255 65535",
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:f 65535"))
valid("v1_unknown_bare", b"PROXY UNKNOWN\r\n" + APP_DATA, *v1_facts(15, "unspec"))
line = b"PROXY UNKNOWN 192.0.2.1 198.51.100.2 1 2\r\n"
valid("v1_unknown_with_addresses", line, *v1_facts(len(line), "unspec"))
line = ("PROXY UNKNOWN %s %s 65535 65535\r\n" % (ffff, ffff)).encode()
assert len(line) == 107
valid("v1_unknown_107_bytes", line + b"\0\1\2", *v1_facts(107, "unspec"))
line = b"PROXY UNKNOWN \t\x00\x01\x7f\xff 01.2.3.4 99999 ::::\r\n"
valid("v1_unknown_binary_junk", line, *v1_facts(len(line), "unspec"))
line = b"PROXY TCP4 203.0.113.7 192.0.2.44 50000 8443\r\n"
valid("v1_tcp4_then_tls_data", line + b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\r\n",
      *v1_facts(len(line), "inet", "203.0.113.7 50000", "192.0.2.44 8443"))

# ---- v1, invalid ---------------------------------------------------------------
invalid("v1_108_bytes", b"PROXY UNKNOWN " + b"x" * 92 + b"\r\n", "v1_no_crlf_in_107_bytes")
invalid("v1_no_crlf_in_107_bytes", b"PROXY UNKNOWN " + b"x" * 93,
        "v1_no_crlf_in_107_bytes")
invalid("v1_no_crlf_long_stream", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2" + b"3" * 500,
        "v1_no_crlf_in_107_bytes")
invalid("v1_lone_lf", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n" + APP_DATA, "v1_lone_cr_or_lf")
invalid("v1_lone_cr", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\r\n", "v1_lone_cr_or_lf")
invalid("v1_unknown_lone_lf", b"PROXY UNKNOWN\n", "v1_lone_cr_or_lf")
invalid("v1_bad_space_double", b"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "v1_bad_space")
invalid("v1_bad_space_tab", b"PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1_bad_space")
invalid("v1_bad_space_missing", b"PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1_bad_space")
invalid("v1_bad_protocol_tcp5", b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "v1_bad_protocol")
invalid("v1_bad_protocol_lowercase", b"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
        "v1_bad_protocol")
invalid("v1_bad_protocol_udp4", b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1_bad_protocol")
invalid("v1_bad_protocol_unknownx", b"PROXY UNKNOWNX\r\n", "v1_bad_protocol")
invalid("v1_bad_source_leading_zero", b"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
        "v1_bad_source_address")
invalid("v1_bad_source_octet_256", b"PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
        "v1_bad_source_address")
invalid("v1_bad_source_three_octets", b"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
        "v1_bad_source_address")
invalid("v1_bad_source_five_octets", b"PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",
        "v1_bad_source_address")
invalid("v1_bad_source_ipv6_in_tcp4", b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
        "v1_bad_source_address")
invalid("v1_bad_destination_ipv4_in_tcp6", b"PROXY TCP6 ::1 5.6.7.8 1 2\r\n",
        "v1_bad_destination_address")
invalid("v1_bad_destination_zone", b"PROXY TCP6 ::1 fe80::1%eth0 1 2\r\n",
        "v1_bad_destination_address")
invalid("v1_bad_destination_two_double_colons", b"PROXY TCP6 ::1 1::2::3 1 2\r\n",
        "v1_bad_destination_address")
invalid("v1_bad_destination_nine_groups", b"PROXY TCP6 ::1 1:2:3:4:5:6:7:8:9 1 2\r\n",
        "v1_bad_destination_address")
invalid("v1_bad_source_port_leading_zero", b"PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n",
        "v1_bad_source_port")
invalid("v1_bad_source_port_plus", b"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
        "v1_bad_source_port")
invalid("v1_bad_destination_port_65536", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
        "v1_bad_destination_port")
invalid("v1_missing_destination_port", b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
        "v1_bad_destination_port")
invalid("v1_missing_everything_after_protocol", b"PROXY TCP4\r\n", "v1_bad_source_address")
# A dotted quad where only the last 32 bits may hold one: also a bounds guard.
invalid("v1_bad_source_dotted_quad_too_late",
        b"PROXY TCP6 1:2:3:4:5:6:7:1.2.3.4 ::1 1 2\r\n", "v1_bad_source_address")
invalid("v1_bad_source_dotted_quad_after_gap",
        b"PROXY TCP6 1::2:3:4:5:6:7:1.2.3.4 ::1 1 2\r\n", "v1_bad_source_address")
invalid("v1_trailing_field", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "v1_trailing_bytes")

# ---- v2, valid ------------------------------------------------------------------


def v2_facts(length, command, family, transport, src=None, dst=None, tlvs=None):
    facts = ["length %d" % length, "version 2", "command " + command,
             "family " + family, "transport " + transport]
    if src:
        facts += ["source " + src, "destination " + dst]
    if tlvs is not None:
        facts.append("tlvs_length %d" % tlvs)
    return facts


h = v2(0x21, 0x11, inet_block("192.0.2.1", "198.51.100.2", 4321, 443))
valid("v2_inet_stream", h,
      *v2_facts(28, "proxy", "inet", "stream", "192.0.2.1 4321", "198.51.100.2 443", 0))
h = v2(0x21, 0x12, inet_block("10.1.2.3", "10.3.2.1", 53, 65535))
valid("v2_inet_dgram", h,
      *v2_facts(28, "proxy", "inet", "dgram", "10.1.2.3 53", "10.3.2.1 65535", 0))
h = v2(0x21, 0x21, inet6_block("2001:db8::1", "2001:db8:0:0:1::2", 0xABCD, 0))
valid("v2_inet6_stream", h,
      *v2_facts(52, "proxy", "inet6", "stream", "2001:db8::1 43981",
                "2001:db8::1:0:0:2 0", 0))
h = v2(0x21, 0x22, inet6_block("::ffff:192.0.2.9", "fe80::1", 5353, 5353))
valid("v2_inet6_dgram", h,
      *v2_facts(52, "proxy", "inet6", "dgram", "::ffff:192.0.2.9 5353",
                "fe80::1 5353", 0))
h = v2(0x21, 0x31, unix_block("/run/client.sock", "/run/haproxy/server.sock"))
valid("v2_unix_stream", h,
      *v2_facts(232, "proxy", "unix", "stream", tlvs=0),
      "unix_source /run/client.sock", "unix_destination /run/haproxy/server.sock")
h = v2(0x21, 0x32, unix_block("/tmp/a", "") + tlv(0x04, b""))
valid("v2_unix_dgram_with_noop", h,
      *v2_facts(235, "proxy", "unix", "dgram", tlvs=3),
      "unix_source /tmp/a")
valid("v2_unspec_empty", v2(0x21, 0x00, b""),
      *v2_facts(16, "proxy", "unspec", "unspec"))
# AF_UNSPEC bytes are opaque: this one would be a truncated TLV elsewhere.
valid("v2_unspec_opaque_bytes", v2(0x21, 0x00, b"\x03\x00\x09\x01\x02") + APP_DATA,
      *v2_facts(21, "proxy", "unspec", "unspec"))
valid("v2_local_empty", v2(0x20, 0x00, b""), "length 16", "version 2", "command local")
# LOCAL: family byte and block ignored, even an invalid family and junk.
valid("v2_local_junk", v2(0x20, 0xFF, b"\x03\x00\x04\xde\xad\xbe\xef\x20\x00\x01\x05\x00"),
      "length 28", "version 2", "command local")
valid("v2_local_short_inet_block", v2(0x20, 0x11, b"\x01\x02\x03"),
      "length 19", "version 2", "command local")
valid("v2_local_inet", v2(0x20, 0x11, inet_block()) + APP_DATA,
      "length 28", "version 2", "command local")
tlvs = (tlv(0x01, b"h2") + tlv(0x02, b"example.com") + tlv(0x04, b"\0" * 5)
        + tlv(0x30, b"ns1") + tlv(0xE0, b"x") + tlv(0xEA, b"\1\2\3\4")
        + tlv(0xEE, b"") + tlv(0xF0, b"\xab" * 10))
h = v2(0x21, 0x11, inet_block() + tlvs)
valid("v2_tlvs_known_and_unknown", h,
      *v2_facts(28 + len(tlvs), "proxy", "inet", "stream", "192.0.2.1 4321",
                "198.51.100.2 443", len(tlvs)))
tlvs = tlv(0xE0, bytes((i * 7) & 0xFF for i in range(60000)))
h = v2(0x21, 0x11, inet_block() + tlvs)
valid("v2_tlv_60000_bytes", h + APP_DATA,
      *v2_facts(16 + 12 + 60003, "proxy", "inet", "stream", "192.0.2.1 4321",
                "198.51.100.2 443", 60003))
h = with_crc(v2(0x21, 0x11, inet_block() + CRC_TLV), 28)
valid("v2_crc32c_ok", h,
      *v2_facts(35, "proxy", "inet", "stream", "192.0.2.1 4321", "198.51.100.2 443", 7))
tlvs = tlv(0x01, b"http/1.1") + tlv(0x02, b"www.example.org")
h = with_crc(v2(0x21, 0x21, inet6_block("2001:db8::a", "2001:db8::b", 1, 2)
                + tlvs + CRC_TLV), 52 + len(tlvs))
valid("v2_crc32c_ok_after_tlvs", h,
      *v2_facts(52 + len(tlvs) + 7, "proxy", "inet6", "stream", "2001:db8::a 1",
                "2001:db8::b 2", len(tlvs) + 7))
h = v2(0x21, 0x11, inet_block() + tlv(0x05, b"u" * 128))
valid("v2_unique_id_128", h,
      *v2_facts(28 + 131, "proxy", "inet", "stream", tlvs=131))
ssl = tlv(0x20, b"\x07\0\0\0\0" + tlv(0x21, b"TLSv1.3") + tlv(0x22, b"client.example")
          + tlv(0x23, b"TLS_AES_256_GCM_SHA384") + tlv(0x24, b"SHA256")
          + tlv(0x25, b"EC256"))
h = v2(0x21, 0x11, inet_block() + ssl)
valid("v2_ssl_with_sub_tlvs", h,
      *v2_facts(28 + len(ssl), "proxy", "inet", "stream", tlvs=len(ssl)))
h = with_crc(v2(0x21, 0x21, inet6_block("::1", "::2", 80, 81) + CRC_TLV + ssl
                + tlv(0x05, b"id-1")), 52)
valid("v2_inet6_crc_ssl_unique_id", h,
      *v2_facts(len(h), "proxy", "inet6", "stream", "::1 80", "::2 81", len(h) - 52))
tlvs = tlv(0x04, b"\0" * (65535 - 12 - 3))
h = v2(0x21, 0x11, inet_block() + tlvs)
assert len(h) == 65551
valid("v2_max_length_65551", h + b"after",
      *v2_facts(65551, "proxy", "inet", "stream", tlvs=65523))
h = with_crc(v2(0x21, 0x11, inet_block() + CRC_TLV + tlv(0xEE, b"z" * (65535 - 12 - 7 - 3))),
             28)
assert len(h) == 65551
valid("v2_max_length_with_crc32c", h, *v2_facts(65551, "proxy", "inet", "stream", tlvs=65523))
valid("v2_then_v1_line", v2(0x21, 0x11, inet_block()) + b"PROXY UNKNOWN\r\n",
      *v2_facts(28, "proxy", "inet", "stream", tlvs=0))

# ---- v2, invalid --------------------------------------------------------------------
# The signature followed by any version but 2 (§2.2: only 2 is accepted).
# No other protocol starts with the signature, so this is a broken header,
# not data; the thirteenth byte alone decides it.
for version in (0x0, 0x1, 0x3, 0xF):
    invalid("v2_bad_version_%x" % version, v2(version << 4 | 0x1, 0x11, inet_block()),
            "v2_bad_version")
invalid("v2_bad_version_13_bytes", SIG + b"\x11", "v2_bad_version")
invalid("v2_bad_version_then_data", SIG + b"\x00GET / HTTP/1.0\r\n\r\n", "v2_bad_version")
invalid("v2_bad_command_2", v2(0x22, 0x11, inet_block()), "v2_bad_command")
invalid("v2_bad_command_f", v2(0x2F, 0x00, b""), "v2_bad_command")
# One per kind of bad family/transport byte.
for fam, kind in [(0x01, "unspec_family_stream"), (0x02, "unspec_family_dgram"),
                  (0x10, "inet_unspec_transport"), (0x20, "inet6_unspec_transport"),
                  (0x30, "unix_unspec_transport"), (0x13, "inet_transport_3"),
                  (0x2F, "inet6_transport_f"), (0x33, "unix_transport_3"),
                  (0x41, "family_4_stream"), (0xF2, "family_f_dgram"),
                  (0x40, "family_4_unspec"), (0xFF, "both_f")]:
    invalid("v2_bad_family_%02x_%s" % (fam, kind), v2(0x21, fam, b"\0" * 216),
            "v2_bad_family")
invalid("v2_length_too_short_inet", v2(0x21, 0x11, b"\0" * 11), "v2_length_too_short")
invalid("v2_length_too_short_inet6", v2(0x21, 0x21, b"\0" * 35), "v2_length_too_short")
invalid("v2_length_too_short_unix", v2(0x21, 0x31, b"\0" * 215), "v2_length_too_short")
invalid("v2_length_too_short_header_only", v2(0x21, 0x22, b"\0" * 12)[:16],
        "v2_length_too_short")
invalid("v2_tlv_truncated_1_byte", v2(0x21, 0x11, inet_block() + b"\x04"),
        "v2_tlv_truncated")
invalid("v2_tlv_truncated_2_bytes", v2(0x21, 0x21, inet6_block("::1", "::2", 1, 2) + b"\x04\x00"),
        "v2_tlv_truncated")
invalid("v2_tlv_truncated_value", v2(0x21, 0x11, inet_block() + tlv(0x01, b"h2")
                                     + b"\x02\x00\x0bexample.co"), "v2_tlv_truncated")
invalid("v2_tlv_truncated_unix", v2(0x21, 0x31, unix_block("/a", "/b") + b"\xE0\xFF\xFF"),
        "v2_tlv_truncated")
h = with_crc(v2(0x21, 0x11, inet_block() + CRC_TLV), 28)
h = h[:16] + bytes([h[16] ^ 1]) + h[17:]
invalid("v2_crc32c_mismatch", h, "v2_crc32c_mismatch")
h = with_crc(v2(0x21, 0x11, inet_block() + CRC_TLV), 28)
h = h[:31] + h[31:35][::-1] + h[35:]  # little endian
invalid("v2_crc32c_little_endian", h, "v2_crc32c_mismatch")
invalid("v2_crc32c_bad_length", v2(0x21, 0x11, inet_block() + tlv(0x03, b"\0\0\0")),
        "v2_crc32c_bad_length")
h = with_crc(v2(0x21, 0x11, inet_block() + CRC_TLV + CRC_TLV), 28)
invalid("v2_crc32c_repeated", h, "v2_crc32c_repeated")
invalid("v2_unique_id_129", v2(0x21, 0x11, inet_block() + tlv(0x05, b"u" * 129)),
        "v2_unique_id_too_long")
invalid("v2_ssl_too_short", v2(0x21, 0x11, inet_block() + tlv(0x20, b"\x01\0\0\0")),
        "v2_ssl_truncated")
invalid("v2_ssl_sub_tlv_overrun",
        v2(0x21, 0x11, inet_block() + tlv(0x20, b"\x01\0\0\0\0" + b"\x21\x00\x08TLSv1.3")),
        "v2_ssl_truncated")


def main():
    for kind in ("valid", "invalid"):
        path = os.path.join(HERE, kind)
        if os.path.isdir(path):
            shutil.rmtree(path)
        os.makedirs(path)
    names = set()
    for kind, name, data, facts in cases:
        assert name not in names, name
        names.add(name)
        case = os.path.join(HERE, kind, name)
        os.makedirs(case)
        with open(os.path.join(case, "input.bin"), "wb") as f:
            f.write(data)
        with open(os.path.join(case, "expected"), "w") as f:
            f.write("\n".join(facts) + "\n")
    print("%d valid, %d invalid cases" % (
        sum(1 for c in cases if c[0] == "valid"),
        sum(1 for c in cases if c[0] == "invalid")))


if __name__ == "__main__":
    main()
