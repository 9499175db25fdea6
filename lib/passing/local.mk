# ---- lib/passing: descriptors passed between processes -------------------------
# SCM_RIGHTS over AF_UNIX sockets: the sender's records posted under each
# socket's cookie, and adopted by the receiving process.
lib_libproxyproto_engine_la_SOURCES += \
	lib/passing/descriptor_passing.h \
	lib/passing/descriptor_passing.cc
