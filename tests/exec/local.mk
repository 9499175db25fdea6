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
tests_exec_exec_reporter_linked_LDFLAGS = -no-install

if ENABLE_TESTS
# The hand-over value's writer and reader (lib/core/handover_text.h).
check_PROGRAMS += tests/exec/check_handover_text
tests_exec_check_handover_text_SOURCES = tests/exec/check_handover_text.cc
tests_exec_check_handover_text_CPPFLAGS = $(AM_CPPFLAGS) $(CHECK_CFLAGS)
tests_exec_check_handover_text_LDADD = lib/libproxyproto_core.la $(CHECK_LIBS)
TESTS += tests/exec/check_handover_text
# Both sides of the hand-over on real sockets, linked against the engine
# (nothing interposed).
check_PROGRAMS += tests/exec/check_handover
tests_exec_check_handover_SOURCES = tests/exec/check_handover.cc
tests_exec_check_handover_CPPFLAGS = $(AM_CPPFLAGS) $(CHECK_CFLAGS)
tests_exec_check_handover_LDADD = lib/libproxyproto_engine.la \
	lib/libproxyproto_core.la lib/libproxyproto_runtime.la $(CHECK_LIBS)
TESTS += tests/exec/check_handover
endif

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
