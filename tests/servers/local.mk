# Real servers under the library: event loops, threads, split and late headers.
# Included by the top Makefile.am; paths are from the top source directory.
#
# Helper programs (plain C++, no Check): load_server in four shapes
# (blocking, epoll with accept4(SOCK_NONBLOCK), 8 threads, fork; TCP or
# AF_UNIX), load_client that writes headers itself and times the answers,
# and fd_bookkeeping for close/dup2/dup3/close_range/fork.
check_PROGRAMS += tests/servers/load_server tests/servers/load_client \
	tests/servers/fd_bookkeeping
tests_servers_load_server_SOURCES = tests/servers/load_server.cc
tests_servers_load_server_LDADD = -lpthread
tests_servers_load_client_SOURCES = tests/servers/load_client.cc
tests_servers_load_client_LDADD = -lpthread
tests_servers_fd_bookkeeping_SOURCES = tests/servers/fd_bookkeeping.cc

pp_servers_scripts = \
	tests/servers/threads.sh \
	tests/servers/fork.sh \
	tests/servers/ordering.sh \
	tests/servers/split.sh \
	tests/servers/fd_bookkeeping.sh \
	tests/servers/unix.sh \
	tests/servers/apps.sh \
	tests/servers/erlang_accept.sh \
	tests/servers/postfix.sh
TESTS += $(pp_servers_scripts)
EXTRA_DIST += $(pp_servers_scripts) tests/servers/flood_body.sh \
	tests/servers/apps/asyncio_server.py tests/servers/apps/net_server.js \
	tests/servers/apps/echo.erl
AM_TESTS_ENVIRONMENT += PP_SERVERS='$(abs_top_builddir)/tests/servers'; \
	export PP_SERVERS;
