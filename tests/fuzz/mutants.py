#!/usr/bin/env python3
"""Breaks each parser rule once and checks that the unit tests notice.

Not part of `make check` (it rebuilds the core once per mutant, minutes of
work): run it by hand from a configured build tree whose sources it may
edit, e.g. a scratch copy:  python3 tests/fuzz/mutants.py
Each mutant is one exact text replacement in lib/core/; a mutant whose
replacement text is not found is an error in this list. The sources are
restored after each run. Exit status 1 if any mutant survives.
"""

import os
import subprocess
import sys

MUTANTS = [
    # (rule, file, original text, broken text)
    ("v1 CRLF within 107 bytes", "parse_v1.cc",
     "if (i + 1 >= v1_max_length)", "if (i + 1 > v1_max_length)"),
    ("v1 lone LF is no terminator", "parse_v1.cc",
     "if (buf[i] == '\\n')  //", "if (false && buf[i] == '\\n')  //"),
    ("v1 lone CR is no terminator", "parse_v1.cc",
     "if (buf[i + 1] != '\\n')", "if (false)"),
    ("v1 single spaces", "parse_v1.cc",
     "if (pos_ == start) {", "if (false) {"),
    ("v1 UNKNOWN exact", "parse_v1.cc",
     'token_is(token, token_len, "UNKNOWN")',
     '(token_len >= 7 && std::memcmp(token, "UNKNOWN", 7) == 0)'),
    ("v1 TCP4 exact", "parse_v1.cc",
     'token_is(token, token_len, "TCP4")',
     '(token_len >= 3 && std::memcmp(token, "TCP", 3) == 0 && token[token_len - 1] == \'4\')'),
    ("v1 TCP6 addresses are IPv6", "parse_v1.cc",
     "parse_address = parse_ipv6_text;", "parse_address = parse_ipv4_text;"),
    ("v1 nothing after the last port", "parse_v1.cc",
     "if (!line.at_end())", "if (false)"),
    ("v1 destination port present", "parse_v1.cc",
     "if (!line.next(&token, &token_len, defect::v1_bad_destination_port, &why))",
     "if (!line.at_end() && !line.next(&token, &token_len, defect::v1_bad_destination_port, &why))"),
    ("decimal: no leading zeros", "inet_text.cc",
     "(i > 1 && text[0] == '0')", "false"),
    ("decimal: maximum value", "inet_text.cc",
     "value > max) return 0;", "value > max + 1) return 0;"),
    ("ipv4: exactly four parts", "inet_text.cc",
     "if (pos != len) return false;\n  std::memcpy(out, bytes, 4);",
     "std::memcpy(out, bytes, 4);"),
    ("ipv6: :: stands for a group", "inet_text.cc",
     "if (filled > 14) return false;", "if (filled > 16) return false;"),
    ("ipv6: dotted quad only in the last 32 bits", "inet_text.cc",
     "if (end != len || filled > 12) return false;",
     "if (end != len || filled > 14) return false;"),
    ("ipv6: one :: at most", "inet_text.cc",
     "if (has_gap) return false;  // one", "if (false) return false;  // one"),
    ("ipv6: at most 4 hex digits", "inet_text.cc",
     "digits > 4 ||", "digits > 5 ||"),
    ("ipv6: no trailing single colon", "inet_text.cc",
     "return false;  // a single trailing colon", "break;"),
    ("port: at most 65535", "inet_text.cc",
     "parse_decimal(text, len, 5, 65535, &value)",
     "parse_decimal(text, len, 5, 65536, &value)"),
    ("v2 version nibble 2 (parse_v2)", "parse_v2.cc",
     "if ((ver_cmd >> 4) != 2)", "if ((ver_cmd >> 4) == 0)"),
    ("v2 other versions invalid, not data", "parse_v2.cc",
     "return reject(defect::v2_bad_version);",
     "return {parse_status::not_proxy, defect::none, 0};"),
    ("v2 LOCAL/PROXY only", "parse_v2.cc",
     "if (cmd != command_local && cmd != command_proxy)", "if (cmd > 2)"),
    ("v2 seven family bytes", "parse_v2.cc",
     "case 0x31: case 0x32:", "case 0x31: case 0x32: case 0x13:"),
    ("v2 family 0x01 invalid", "parse_v2.cc",
     "case 0x00: case 0x11:", "case 0x00: case 0x01: case 0x11:"),
    ("v2 LOCAL ignores the family", "parse_v2.cc",
     "if (cmd == command_proxy && !valid_family_byte(fam))",
     "if (!valid_family_byte(fam))"),
    ("v2 LOCAL skips len bytes whatever they hold", "parse_v2.cc",
     "const size_t block = cmd == command_proxy ? address_block(fam) : 0;",
     "const size_t block = address_block(fam);"),
    ("v2 len at least the address block", "parse_v2.cc",
     "if (body < block)", "if (body + 1 < block)"),
    ("v2 header is exactly 16 + len", "parse_v2.cc",
     "if (len < total) return need_more();", "if (len + 1 < total) return need_more();"),
    ("v2 AF_UNSPEC block is not TLVs", "parse_v2.cc",
     "if (out->family != address_family::unspec) {", "if (true) {"),
    ("tlv: length runs past the end", "tlv.cc",
     "if (remaining - tlv_header_length < length) {",
     "if (remaining - tlv_header_length + 1 < length) {"),
    ("tlv: header runs past the end", "tlv.cc",
     "if (remaining < tlv_header_length) {\n    truncated_ = true;\n    return false;",
     "if (remaining < tlv_header_length) {\n    return false;"),
    ("crc32c verified", "parse_v2.cc",
     "if (crc32c(hdr, total, offset, 4) != be32(crc_field))",
     "if (crc32c(hdr, total, offset, 4) != be32(crc_field) && false)"),
    ("crc32c field zeroed", "crc32c.cc",
     "skipped ? 0 : buf[i]", "(skipped && false) ? 0 : buf[i]"),
    ("crc32c over the whole header", "parse_v2.cc",
     "crc32c(hdr, total, offset, 4)", "crc32c(hdr, total - 1, offset, 4)"),
    ("crc32c 4 bytes", "parse_v2.cc",
     "if (item.length != 4)", "if (item.length < 4)"),
    ("crc32c once", "parse_v2.cc",
     "if (crc_field) return defect::v2_crc32c_repeated;", ""),
    ("unique id at most 128", "parse_v2.cc",
     "if (item.length > unique_id_max_length)",
     "if (item.length > unique_id_max_length + 1)"),
    ("ssl client+verify present", "parse_v2.cc",
     "if (ssl.length < ssl_fixed_length)", "if (ssl.length < 1)"),
    ("ssl sub-TLVs bounds-checked", "parse_v2.cc",
     "return sub.truncated() ? defect::v2_ssl_truncated : defect::none;",
     "return defect::none;"),
    ("detection: v1 prefix is need_more", "parse_header.cc",
     "      case prefix_match::partial:\n        undecided = true;\n        break;\n      case prefix_match::none:\n        break;\n    }\n  }\n  if (undecided)",
     "      case prefix_match::partial:\n        break;\n      case prefix_match::none:\n        break;\n    }\n  }\n  if (undecided)"),
    ("detection: version mask honoured", "parse_header.cc",
     "if (versions & accept_v1) {", "if (true) {"),
]


def run(cmd):
    return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def main():
    top = os.getcwd()
    env_tests = "CK_FORK=no CK_DEFAULT_TIMEOUT=600 ./tests/unit/check_core"
    survivors = []
    only = sys.argv[1:]  # optional: run the mutants whose rule has these words
    chosen = [m for m in MUTANTS if not only or any(w in m[0] for w in only)]
    for rule, name, old, new in chosen:
        path = os.path.join(top, "lib", "core", name)
        with open(path) as f:
            original = f.read()
        if original.count(old) != 1:
            print("BAD MUTANT (text found %d times): %s" % (original.count(old), rule))
            survivors.append(rule)
            continue
        try:
            with open(path, "w") as f:
                f.write(original.replace(old, new))
            build = run("make -s tests/unit/check_core")
            if build.returncode != 0:
                print("build failed: %s\n%s" % (rule, build.stdout[-2000:]))
                survivors.append(rule)
                continue
            result = run(env_tests)
            last = result.stdout.strip().splitlines()[-1:] or [""]
            caught = result.returncode != 0
            print("%-8s %-45s %s" % ("caught" if caught else "SURVIVED", rule, last[0]))
            sys.stdout.flush()
            if not caught:
                survivors.append(rule)
        finally:
            with open(path, "w") as f:
                f.write(original)
    run("make -s tests/unit/check_core")
    print("%d mutants, %d caught, %d survived" % (
        len(chosen), len(chosen) - len(survivors), len(survivors)))
    for s in survivors:
        print("  survived: " + s)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
