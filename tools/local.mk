# proxyproto-inspect and the public C API tests.
# Included by the top Makefile.am; paths are from the top source directory.
