# proxyproto-run (tools/proxyproto-run/) with real programs: a C server
# built dynamically here and by the tests statically with musl-gcc and for
# i386 with i686-linux-gnu-gcc, a Go net/http server built by the tests
# (static, with cgo, and for 386), and nginx.
# Included by the top Makefile.am; paths are from the top source directory.
pp_run_scripts = \
	tests/run/launcher.sh \
	tests/run/servers.sh \
	tests/run/rules.sh \
	tests/run/timing.sh \
	tests/run/calls.sh \
	tests/run/flood.sh \
	tests/run/nginx.sh \
	tests/run/socketcall.sh \
	tests/run/i386_direct.sh
EXTRA_DIST += $(pp_run_scripts) tests/run/run_lib.sh tests/run/run_server.c \
	tests/run/go_server.go tests/run/local.mk
if ENABLE_LAUNCHER
check_PROGRAMS += tests/run/run_server
tests_run_run_server_SOURCES = tests/run/run_server.c
tests_run_run_server_CFLAGS = -std=gnu11 -Wall -Wextra $(PP_CWERROR)
TESTS += $(pp_run_scripts)
AM_TESTS_ENVIRONMENT += PP_RUN='$(abs_top_builddir)/tools/proxyproto-run/proxyproto-run'; \
	PP_RUN_DIR='$(abs_top_builddir)/tests/run'; export PP_RUN PP_RUN_DIR;
PP_CLEAN_LOCAL += pp-clean-run
pp-clean-run:
	-chmod -R u+w tests/run/gocache 2>/dev/null; rm -rf tests/run/gocache
endif
