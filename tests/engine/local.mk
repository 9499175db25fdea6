# White-box tests of the server library's stateful units (records, the
# accept engine, the captured environment), linked from the noinst engine
# library that libproxyproto.so is made of: nothing is interposed, the test
# calls the units themselves. One Check program, one suite per unit.
# Included by the top Makefile.am; paths are from the top source directory.
if ENABLE_TESTS
check_PROGRAMS += tests/engine/check_engine
tests_engine_check_engine_SOURCES = \
	tests/engine/suites.h \
	tests/lib/check_assert.h \
	tests/engine/check_main.cc \
	tests/engine/check_peer_addresses.cc \
	tests/engine/check_kept_headers.cc \
	tests/engine/check_pending_pool.cc \
	tests/engine/check_header_reader.cc \
	tests/engine/check_connection_scope.cc \
	tests/engine/check_captured_environment.cc \
	tests/engine/check_handover.cc \
	tests/engine/check_iov_bytes.cc \
	tests/engine/check_reply_map.cc \
	tests/engine/check_usual_header.cc \
	tests/engine/check_shared_accept.cc \
	tests/engine/check_passed_mailbox.cc
tests_engine_check_engine_CPPFLAGS = $(AM_CPPFLAGS) $(CHECK_CFLAGS)
tests_engine_check_engine_LDADD = lib/libproxyproto_engine.la \
	lib/libproxyproto_core.la lib/libproxyproto_runtime.la $(CHECK_LIBS) \
	-ldl -lpthread
TESTS += tests/engine/check_engine
# The header reader against a race between its looks, made certain: the
# program defines poll(), which the reader calls, so it is a program of its
# own.
check_PROGRAMS += tests/engine/check_reader_race
tests_engine_check_reader_race_SOURCES = tests/engine/check_reader_race.cc
tests_engine_check_reader_race_CPPFLAGS = $(AM_CPPFLAGS) $(CHECK_CFLAGS)
tests_engine_check_reader_race_LDADD = lib/libproxyproto_engine.la \
	lib/libproxyproto_core.la lib/libproxyproto_runtime.la $(CHECK_LIBS) \
	-ldl -lpthread
TESTS += tests/engine/check_reader_race
endif
