# proxyproto-inspect and the public C API tests.
# Included by the top Makefile.am; paths are from the top source directory.

# ---- proxyproto-inspect: what a load balancer sends ---------------------------
# A C99 program linked against the installed library's public API.
bin_PROGRAMS += tools/proxyproto-inspect
tools_proxyproto_inspect_SOURCES = tools/proxyproto_inspect.c
tools_proxyproto_inspect_CFLAGS = -std=c99 -Wall -Wextra -Werror=implicit-function-declaration \
	$(PP_CWERROR)
tools_proxyproto_inspect_LDADD = lib/libproxyproto.la
dist_man1_MANS = doc/proxyproto-inspect.1
man1_MANS =

# ---- The public C interface ----------------------------------------------------
if ENABLE_TESTS
# Check tests of every public function, written in C99 against the header.
check_PROGRAMS += tests/api/check_api
tests_api_check_api_SOURCES = tests/api/check_api.c
tests_api_check_api_CFLAGS = -std=c99 -Wall -Wextra $(PP_CWERROR) $(CHECK_CFLAGS)
tests_api_check_api_LDADD = lib/libproxyproto.la $(CHECK_LIBS)
TESTS += tests/api/check_api
endif

# A server using the API on what it accepts, for the integration tests.
check_PROGRAMS += tests/api/api_server
tests_api_api_server_SOURCES = tests/api/api_server.c
tests_api_api_server_CFLAGS = -std=c99 -Wall -Wextra $(PP_CWERROR)
tests_api_api_server_LDADD = lib/libproxyproto.la

# Integration: the connect library's TLVs through the API and the tool.
pp_api_scripts = tests/api/connect_tlvs.sh tests/api/haproxy_tlvs.sh
TESTS += $(pp_api_scripts)
EXTRA_DIST += $(pp_api_scripts)

# The same C99 program: against the source tree here, against the installed
# header and library in installcheck below.
check_PROGRAMS += tests/api/installed_c99
tests_api_installed_c99_SOURCES = tests/api/installed_c99.c
tests_api_installed_c99_CFLAGS = -std=c99 -pedantic -Wall -Wextra $(PP_CWERROR)
tests_api_installed_c99_LDADD = lib/libproxyproto.la
TESTS += tests/api/installed_c99

# installcheck: compile tests/api/installed_c99.c as strict C99 (and as C++)
# against the installed <proxyproto.h>, link it with the installed library
# and run it. Flags come from `pkg-config --cflags --libs libproxyproto` when
# the installed libproxyproto.pc is found; until the packaging branch adds
# the .pc file, from -I/-L of the installation prefix.
PP_INSTALLCHECK_LOCAL += pp-installcheck-public-api
pp-installcheck-public-api:
	@set -e; \
	pcdir='$(DESTDIR)$(libdir)/pkgconfig'; \
	if PKG_CONFIG_PATH="$$pcdir" $(PKG_CONFIG) --exists libproxyproto 2>/dev/null; then \
	  flags=`PKG_CONFIG_PATH="$$pcdir" $(PKG_CONFIG) --define-prefix --cflags --libs libproxyproto`; \
	  echo "installcheck public API: pkg-config libproxyproto: $$flags"; \
	else \
	  flags='-I$(DESTDIR)$(includedir) -L$(DESTDIR)$(libdir) -lproxyproto'; \
	  echo "installcheck public API: no libproxyproto.pc installed; using $$flags"; \
	fi; \
	tmp=`mktemp -d`; \
	$(CC) -std=c99 -pedantic -Wall -Wextra $(PP_CWERROR) -o $$tmp/c99 \
	  $(srcdir)/tests/api/installed_c99.c $$flags; \
	$(CXX) -x c++ -std=c++11 -Wall -Wextra $(PP_CWERROR) -o $$tmp/cxx \
	  $(srcdir)/tests/api/installed_c99.c $$flags; \
	LD_LIBRARY_PATH='$(DESTDIR)$(libdir)' $$tmp/c99; \
	LD_LIBRARY_PATH='$(DESTDIR)$(libdir)' $$tmp/cxx; \
	rm -rf $$tmp
