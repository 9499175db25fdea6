# make bench: the benchmark (not part of make check).
# Included by the top Makefile.am; paths are from the top source directory.
