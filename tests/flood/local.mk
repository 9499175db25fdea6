# Floods of silent connections among legitimate clients whose headers come
# late: no connection is settled before its own deadline, whatever the
# others do, in every accept shape. Included by the top Makefile.am; paths
# are from the top source directory.
#
# flood_server is an echo server in three shapes (epoll, blocking accept,
# pre-forked workers); flood_client opens the flood and the clients and
# judges every answer and its time.
check_PROGRAMS += tests/flood/flood_server tests/flood/flood_client
tests_flood_flood_server_SOURCES = tests/flood/flood_server.cc
tests_flood_flood_server_LDADD = -lpthread
tests_flood_flood_client_SOURCES = tests/flood/flood_client.cc

pp_flood_scripts = \
	tests/flood/epoll.sh \
	tests/flood/blocking.sh \
	tests/flood/prefork.sh \
	tests/flood/late_headers.sh
TESTS += $(pp_flood_scripts)
EXTRA_DIST += $(pp_flood_scripts) tests/flood/common.sh
AM_TESTS_ENVIRONMENT += PP_FLOOD='$(abs_top_builddir)/tests/flood'; \
	export PP_FLOOD;
