# Trusted proxies, scoping and the configuration file.
# Included by the top Makefile.am; paths are from the top source directory.
