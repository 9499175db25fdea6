# make bench: the benchmark (not part of make check).
# Included by the top Makefile.am; paths are from the top source directory.
#
# The programs are EXTRA_PROGRAMS: built only by `make bench-programs` (and
# so by `make bench`), never by `make all` or `make check`.
EXTRA_PROGRAMS += tests/bench/pp_loadgen tests/bench/pp_echo_server \
	tests/bench/pp_preload_cost tests/bench/pp_udp_echo tests/bench/pp_udp_loadgen
tests_bench_pp_loadgen_SOURCES = tests/bench/pp_loadgen.cc
tests_bench_pp_echo_server_SOURCES = tests/bench/pp_echo_server.cc
tests_bench_pp_preload_cost_SOURCES = tests/bench/pp_preload_cost.c
tests_bench_pp_udp_echo_SOURCES = tests/bench/pp_udp_echo.cc
tests_bench_pp_udp_loadgen_SOURCES = tests/bench/pp_udp_loadgen.cc
pp_bench_programs = tests/bench/pp_loadgen$(EXEEXT) \
	tests/bench/pp_echo_server$(EXEEXT) tests/bench/pp_preload_cost$(EXEEXT) \
	tests/bench/pp_udp_echo$(EXEEXT) tests/bench/pp_udp_loadgen$(EXEEXT)

# proxyproto-run's rows (bench.py): the same echo server linked statically,
# as a program the library cannot be preloaded into, and the getpeername()
# cost, static (no proxy and the launcher) and dynamic (the library). Built
# only with the launcher: they measure nothing else, and a system built
# --disable-launcher need not have the static C and C++ libraries.
if ENABLE_LAUNCHER
EXTRA_PROGRAMS += tests/bench/pp_echo_server_static \
	tests/bench/pp_getpeername_cost tests/bench/pp_getpeername_cost_static
tests_bench_pp_echo_server_static_SOURCES = tests/bench/pp_echo_server.cc
tests_bench_pp_echo_server_static_LDFLAGS = $(AM_LDFLAGS) -all-static
tests_bench_pp_getpeername_cost_SOURCES = tests/bench/pp_getpeername_cost.c
tests_bench_pp_getpeername_cost_static_SOURCES = tests/bench/pp_getpeername_cost.c
tests_bench_pp_getpeername_cost_static_LDFLAGS = $(AM_LDFLAGS) -all-static
pp_bench_programs += tests/bench/pp_echo_server_static$(EXEEXT) \
	tests/bench/pp_getpeername_cost$(EXEEXT) \
	tests/bench/pp_getpeername_cost_static$(EXEEXT)
pp_bench_launcher_program = tools/proxyproto-run/proxyproto-run$(EXEEXT)
pp_bench_launcher = '$(abs_top_builddir)/$(pp_bench_launcher_program)'
else
pp_bench_launcher_program =
pp_bench_launcher = none
endif
CLEANFILES += $(pp_bench_programs)
EXTRA_DIST += tests/bench/bench.py tests/bench/bench_udp.py tests/bench/echo.erl
# The Go echo server's build cache (bench.py builds tests/run/go_server.go):
# in the build tree, so that only the first run compiles.
PP_CLEAN_LOCAL += pp-clean-bench
pp-clean-bench:
	-chmod -R u+w tests/bench/gocache 2>/dev/null; rm -rf tests/bench/gocache

# BENCH_QUICK=1: one short round of everything (the CI smoke test).
# BENCH_ARGS: more options for bench.py (see bench.py --help).
BENCH_QUICK =
BENCH_ARGS =
PYTHON3 = python3

bench-programs: $(pp_bench_programs)

bench: bench-programs lib/libproxyproto.la $(pp_bench_launcher_program)
	$(PYTHON3) $(srcdir)/tests/bench/bench.py \
		--builddir '$(abs_top_builddir)' --srcdir '$(abs_top_srcdir)' \
		--launcher $(pp_bench_launcher) \
		$(if $(BENCH_QUICK),--quick) $(BENCH_ARGS)

.PHONY: bench bench-programs
