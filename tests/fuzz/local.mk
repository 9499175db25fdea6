# Fuzzing the core, sanitizer builds, hostile-input tests.
# Included by the top Makefile.am; paths are from the top source directory.
