# Pre-forked servers under the library: several processes accepting on one
# listener (or one SO_REUSEPORT group), headers late, split or missing.
# Included by the top Makefile.am; paths are from the top source directory.
#
# prefork_server: a pre-forked HTTP/1.0 server in three shapes (blocking
# accept, epoll loop, select loop) that records every connection its
# application accepted; prefork_client: rounds of concurrent clients whose
# header comes 0, 10, 100 or 1000 ms late or in two segments, and silent ones.
check_PROGRAMS += tests/prefork/prefork_server tests/prefork/prefork_client
tests_prefork_prefork_server_SOURCES = tests/prefork/prefork_server.cc
tests_prefork_prefork_server_LDADD = -lpthread
tests_prefork_prefork_client_SOURCES = tests/prefork/prefork_client.cc
tests_prefork_prefork_client_LDADD = -lpthread

# check_readiness: Check tests of the wait calls reporting a listener's
# parked connections (epoll level/edge/EPOLLEXCLUSIVE, poll, ppoll, select,
# pselect, deadlines), with the library dlopen()ed into the test.
check_PROGRAMS += tests/prefork/check_readiness
tests_prefork_check_readiness_SOURCES = tests/prefork/check_readiness.cc
tests_prefork_check_readiness_CPPFLAGS = $(AM_CPPFLAGS) $(CHECK_CFLAGS)
tests_prefork_check_readiness_LDADD = $(CHECK_LIBS)
TESTS += tests/prefork/check_readiness

pp_prefork_scripts = \
	tests/prefork/own_server.sh \
	tests/prefork/nginx.sh \
	tests/prefork/apache.sh \
	tests/prefork/gunicorn.sh
TESTS += $(pp_prefork_scripts)
EXTRA_DIST += $(pp_prefork_scripts) tests/prefork/common.sh \
	tests/prefork/wsgi_app.py
AM_TESTS_ENVIRONMENT += PP_PREFORK='$(abs_top_builddir)/tests/prefork'; \
	export PP_PREFORK;
