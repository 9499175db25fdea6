# ---- lib/runtime: the process, shared by both preload libraries ---------------
# Binding the real libc functions, logging and the environment: the only
# process-wide state that both interposers need.
noinst_LTLIBRARIES += lib/libproxyproto_runtime.la
lib_libproxyproto_runtime_la_SOURCES = \
	lib/runtime/real_calls.h \
	lib/runtime/real_calls.cc \
	lib/runtime/next_symbol.h \
	lib/runtime/mutex_guard.h \
	lib/runtime/shared_atomics.h \
	lib/runtime/real_datagram_calls.h \
	lib/runtime/real_datagram_calls.cc \
	lib/runtime/time_layouts.h \
	lib/runtime/log.h \
	lib/runtime/log.cc \
	lib/runtime/environment.h \
	lib/runtime/environment.cc \
	lib/runtime/export.h \
	lib/runtime/dso_handle.cc
