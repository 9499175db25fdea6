# Real servers under the library: event loops, threads, split and late headers.
# Included by the top Makefile.am; paths are from the top source directory.
