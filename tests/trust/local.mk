# Trusted proxies, scoping and the configuration file.
# Included by the top Makefile.am; paths are from the top source directory.

# The system configuration file's path, fixed at configure time; the
# library reads it unless LIBPROXYPROTO_CONFIG names another (and always in
# set-user-ID programs).
AM_CPPFLAGS += -DPP_SYSTEM_CONFIG='"$(sysconfdir)/libproxyproto.conf"'

# The tests never depend on the machine's own configuration file: each
# points LIBPROXYPROTO_CONFIG elsewhere (here /dev/null, an empty file)
# unless it sets its own. PP_SYSTEM_CONFIG tells the setuid test which file
# the library will read there.
AM_TESTS_ENVIRONMENT += \
	LIBPROXYPROTO_CONFIG=/dev/null; \
	PP_SYSTEM_CONFIG='$(sysconfdir)/libproxyproto.conf'; \
	export LIBPROXYPROTO_CONFIG PP_SYSTEM_CONFIG;

# A server linked against libproxyproto.so (DT_NEEDED) rather than
# preloaded: ld.so ignores LD_PRELOAD paths in set-user-ID programs, so the
# setuid test runs a copy of this one. -no-install: a real binary with the
# build tree in its run path, no libtool wrapper script.
check_PROGRAMS += tests/trust/pp_server_linked
tests_trust_pp_server_linked_SOURCES = tests/helpers/pp_server.cc
tests_trust_pp_server_linked_LDADD = lib/libproxyproto.la
tests_trust_pp_server_linked_LDFLAGS = $(AM_LDFLAGS) -no-install

pp_trust_scripts = \
	tests/trust/allow.sh \
	tests/trust/scope.sh \
	tests/trust/config_file.sh \
	tests/trust/activation.sh \
	tests/trust/secure.sh
TESTS += $(pp_trust_scripts)
EXTRA_DIST += $(pp_trust_scripts)
