# ---- tools/proxyproto-run: the launcher ---------------------------------------
# PROXY protocol for programs LD_PRELOAD cannot reach (static, Go), through
# seccomp user notification. A program, not a preloaded library: it links
# libseccomp and the C++ runtime, and the library's convenience libraries
# for the engine's rules (settings, scope, header reader); nothing of it
# goes into libproxyproto.so. One file per concern (doc/design.md).
if ENABLE_LAUNCHER
bin_PROGRAMS += tools/proxyproto-run/proxyproto-run
tools_proxyproto_run_proxyproto_run_SOURCES = \
	tools/proxyproto-run/main.cc \
	tools/proxyproto-run/launch.h \
	tools/proxyproto-run/launch.cc \
	tools/proxyproto-run/filter.h \
	tools/proxyproto-run/filter.cc \
	tools/proxyproto-run/signals.h \
	tools/proxyproto-run/signals.cc \
	tools/proxyproto-run/supervisor.h \
	tools/proxyproto-run/supervisor.cc \
	tools/proxyproto-run/pidfd_calls.h \
	tools/proxyproto-run/notification.h \
	tools/proxyproto-run/notification.cc \
	tools/proxyproto-run/program_access.h \
	tools/proxyproto-run/program_access.cc \
	tools/proxyproto-run/accept_trap.h \
	tools/proxyproto-run/accept_trap.cc \
	tools/proxyproto-run/wakeups.h \
	tools/proxyproto-run/wakeups.cc \
	tools/proxyproto-run/address_records.h \
	tools/proxyproto-run/address_records.cc \
	tools/proxyproto-run/address_answers.h \
	tools/proxyproto-run/address_answers.cc
tools_proxyproto_run_proxyproto_run_CPPFLAGS = $(AM_CPPFLAGS) $(SECCOMP_CFLAGS)
tools_proxyproto_run_proxyproto_run_LDADD = lib/libproxyproto_engine.la \
	lib/libproxyproto_core.la lib/libproxyproto_runtime.la $(SECCOMP_LIBS) \
	-ldl -lpthread
# A program, not a preloaded library: its own calls are bound at start, so
# that its whole GOT is read-only (the libraries bind lazily; configure.ac
# says why, and debian/rules turns bindnow off for the package as a whole).
tools_proxyproto_run_proxyproto_run_LDFLAGS = $(AM_LDFLAGS) -Wl,-z,now
# proxyproto-run(1), made by pandoc from doc/proxyproto-run.1.md (see the
# documentation section of Makefile.am) and shipped in the tarball.
man1_MANS += doc/proxyproto-run.1
endif
EXTRA_DIST += tools/proxyproto-run/local.mk
