# Connections accepted by a process that is not under the library (systemd
# Accept=yes, inetd, tcpserver), with only the service under it: the header
# is read when the library loads.
# Included by the top Makefile.am; paths are from the top source directory.
check_PROGRAMS += tests/inherited/inherited_reporter
tests_inherited_inherited_reporter_SOURCES = tests/inherited/inherited_reporter.cc

pp_inherited_scripts = \
	tests/inherited/inherited.sh \
	tests/inherited/daemons.sh
TESTS += $(pp_inherited_scripts)
EXTRA_DIST += $(pp_inherited_scripts)
AM_TESTS_ENVIRONMENT += PP_INHERITED='$(abs_top_builddir)/tests/inherited'; \
	export PP_INHERITED;
