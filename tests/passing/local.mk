# Descriptors passed between processes (SCM_RIGHTS): a C++ program that
# accepts and passes, and receives, under the library; and real programs
# that do the same (Node.js cluster, pm2).
# Included by the top Makefile.am; paths are from the top source directory.
check_PROGRAMS += tests/passing/fd_passer
tests_passing_fd_passer_SOURCES = tests/passing/fd_passer.cc

pp_passing_scripts = \
	tests/passing/passing.sh \
	tests/passing/node.sh
TESTS += $(pp_passing_scripts)
EXTRA_DIST += $(pp_passing_scripts) tests/passing/apps/cluster.js \
	tests/passing/apps/pm2_app.js
AM_TESTS_ENVIRONMENT += PP_PASSING='$(abs_top_builddir)/tests/passing'; \
	export PP_PASSING;
