# Fuzzing the core, sanitizer builds, hostile-input tests.
# Included by the top Makefile.am; paths are from the top source directory.

# ---- The fuzz target's invariants, in every build --------------------------
# fuzz_replay runs the invariants of tests/fuzz/invariants.cc over the corpus
# and the saved regressions with the ordinary compiler.
if ENABLE_TESTS
check_PROGRAMS += tests/fuzz/fuzz_replay
tests_fuzz_fuzz_replay_SOURCES = tests/fuzz/fuzz_replay.cc \
	tests/fuzz/invariants.h tests/fuzz/invariants.cc
tests_fuzz_fuzz_replay_LDADD = lib/libproxyproto_core.la
TESTS += tests/fuzz/replay.sh

# Hundreds of hostile connections against pp_server under libproxyproto.so;
# the oracle is the core parser, linked into the client.
check_PROGRAMS += tests/fuzz/hostile_client
tests_fuzz_hostile_client_SOURCES = tests/fuzz/hostile_client.cc
tests_fuzz_hostile_client_LDADD = lib/libproxyproto_core.la
TESTS += tests/fuzz/hostile.sh
endif
EXTRA_DIST += tests/fuzz/replay.sh tests/fuzz/hostile.sh tests/fuzz/regressions \
	tests/fuzz/mutants.py tests/fuzz/fuzz_core.cc tests/fuzz/valgrind.sh \
	tests/fuzz/sanitizer_reports.sh

# ---- Sanitizers ------------------------------------------------------------
# Every process a test starts may load the ASan-built preload libraries, so
# the ASan runtime goes first in LD_PRELOAD (scripts append their library
# before what is already set); its link-order check is off for the same
# reason. Reports go to files under sanitizer-reports/, which
# tests/fuzz/sanitizer_reports.sh (run by .ci/stages/10-sanitizers.sh after
# make check) turns into a failure.
# Leak checking is off: the shells and tools the scripts run are not ours,
# and the libraries allocate nothing.
# PP_TIME_SCALE stretches the tests' bounded waits for the slower build.
if ENABLE_SANITIZERS
AM_TESTS_ENVIRONMENT += \
	PP_SANITIZER_REPORTS='$(abs_top_builddir)/sanitizer-reports'; \
	mkdir -p "$$PP_SANITIZER_REPORTS"; \
	LD_PRELOAD='$(PP_ASAN_RUNTIME)'; \
	ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=0:abort_on_error=1:log_path=$$PP_SANITIZER_REPORTS/asan"; \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$$PP_SANITIZER_REPORTS/ubsan"; \
	PP_TIME_SCALE=$${PP_TIME_SCALE:-4}; CK_TIMEOUT_MULTIPLIER=$$PP_TIME_SCALE; \
	export PP_SANITIZER_REPORTS LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS PP_TIME_SCALE \
		CK_TIMEOUT_MULTIPLIER;
endif
PP_CLEAN_LOCAL += pp-fuzz-clean-local
pp-fuzz-clean-local:
	-rm -rf sanitizer-reports tests/fuzz/fuzz-corpus tests/fuzz/artifacts

# ---- libFuzzer ---------------------------------------------------------------
# make fuzz                 builds tests/fuzz/fuzz_core with clang
# make fuzz-run FUZZ_SECONDS=N  runs it on a copy of the corpus for N seconds
FUZZ_SECONDS = 60
FUZZ_MAX_LEN = 2048
fuzz_core_sources = $(filter %.cc,$(lib_libproxyproto_core_la_SOURCES)) \
	tests/fuzz/invariants.cc tests/fuzz/fuzz_core.cc
if ENABLE_FUZZING
CLEANFILES += tests/fuzz/fuzz_core
tests/fuzz/fuzz_core: $(fuzz_core_sources:%=$(srcdir)/%) \
		$(srcdir)/tests/fuzz/invariants.h config.h
	$(AM_V_GEN)$(MKDIR_P) tests/fuzz && $(FUZZ_CXX) -std=c++20 -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-include config.h -I$(srcdir)/lib -I$(srcdir)/include -Iinclude \
		-o $@ $(fuzz_core_sources:%=$(srcdir)/%)
fuzz: tests/fuzz/fuzz_core
# The seeds: every corpus input and every regression, flattened into one
# directory that the run may grow.
fuzz-run: tests/fuzz/fuzz_core
	rm -rf tests/fuzz/fuzz-corpus && $(MKDIR_P) tests/fuzz/fuzz-corpus tests/fuzz/artifacts
	for d in $(srcdir)/tests/corpus/valid/* $(srcdir)/tests/corpus/invalid/*; do \
		cp "$$d/input.bin" "tests/fuzz/fuzz-corpus/$${d##*/}" || exit 1; done
	cp $(srcdir)/tests/fuzz/regressions/* tests/fuzz/fuzz-corpus/
	./tests/fuzz/fuzz_core -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
		-print_final_stats=1 -artifact_prefix=tests/fuzz/artifacts/ \
		tests/fuzz/fuzz-corpus
else
fuzz fuzz-run:
	@echo "configure with --enable-fuzzing (needs clang) to build the fuzzer" >&2; exit 1
endif
.PHONY: fuzz fuzz-run

# ---- Targets for the CI stages ---------------------------------------------
# make check-valgrind: tests/fuzz/valgrind.sh (slow, so not in TESTS).
check-valgrind: tests/helpers/pp_server tests/fuzz/hostile_client \
		lib/libproxyproto.la
	@$(AM_TESTS_ENVIRONMENT) $(SHELL) $(srcdir)/tests/fuzz/valgrind.sh
# make pp-print-tests: the TESTS list, for stages that run a subset.
pp-print-tests:
	@echo $(TESTS)
.PHONY: check-valgrind pp-print-tests
