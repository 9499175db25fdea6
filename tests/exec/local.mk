# Records across exec: a proxied connection handed to the program a server
# starts (inetd, tcpserver, sshd's re-exec), through every exec entry point.
# Included by the top Makefile.am; paths are from the top source directory.

# exec_tester accepts one connection under the library and starts
# exec_reporter on it; exec_reporter_linked is the reporter linked against
# libproxyproto.so (DT_NEEDED), for the setuid case: ld.so ignores LD_PRELOAD
# paths in set-user-ID programs. -no-install: a real binary, no libtool
# wrapper script.
check_PROGRAMS += tests/exec/exec_tester tests/exec/exec_reporter \
	tests/exec/exec_reporter_linked
tests_exec_exec_tester_SOURCES = tests/exec/exec_tester.cc
tests_exec_exec_reporter_SOURCES = tests/exec/exec_reporter.cc
tests_exec_exec_reporter_linked_SOURCES = tests/exec/exec_reporter.cc
tests_exec_exec_reporter_linked_LDADD = lib/libproxyproto.la
tests_exec_exec_reporter_linked_LDFLAGS = $(AM_LDFLAGS) -no-install

# The unit tests of the hand-over are suites of tests/unit/check_core
# (handover_text) and tests/engine/check_engine (handover).

pp_exec_scripts = \
	tests/exec/entry_points.sh \
	tests/exec/secure.sh \
	tests/exec/sshd.sh \
	tests/exec/inetd.sh \
	tests/exec/tcpserver.sh
TESTS += $(pp_exec_scripts)
EXTRA_DIST += $(pp_exec_scripts) tests/exec/common_exec.sh
AM_TESTS_ENVIRONMENT += PP_EXEC='$(abs_top_builddir)/tests/exec'; \
	export PP_EXEC;
