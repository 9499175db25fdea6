# UDP: PROXY v2 per datagram (LIBPROXYPROTO_UDP), on both sides.
# Included by the top Makefile.am; paths are from the top source directory.
#
# udp_server exercises every receive call; receive_calls.py drives it (and
# an asyncio server) with good, bad and header-less datagrams. The DNS tests
# put real programs on both sides: dnsdist in front of dnsmasq under the
# library, the test client in UDP mode before dnsmasq, and pdns-recursor
# (which reads the protocol itself) after the test client.
check_PROGRAMS += tests/udp/udp_server
tests_udp_udp_server_SOURCES = tests/udp/udp_server.cc

pp_udp_scripts = \
	tests/udp/receive_calls.sh \
	tests/udp/dns.sh
TESTS += $(pp_udp_scripts)
EXTRA_DIST += $(pp_udp_scripts) tests/udp/local.mk tests/udp/receive_calls.py \
	tests/udp/asyncio_echo.py tests/udp/node_dgram.js tests/udp/pp_datagrams.py tests/udp/dns.py
AM_TESTS_ENVIRONMENT += PP_UDP_SERVER='$(abs_top_builddir)/tests/udp/udp_server'; \
	export PP_UDP_SERVER;
