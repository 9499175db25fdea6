# ---- lib/datagram: UDP, under LIBPROXYPROTO_UDP --------------------------------
# Which descriptors are UDP sockets in scope, the removal of each
# datagram's header in the application's buffers, and the map that sends
# replies back through the proxy.
lib_libproxyproto_engine_la_SOURCES += \
	lib/datagram/socket_states.h \
	lib/datagram/socket_states.cc \
	lib/datagram/iov_bytes.h \
	lib/datagram/iov_bytes.cc \
	lib/datagram/reply_map.h \
	lib/datagram/reply_map.cc \
	lib/datagram/receive.h \
	lib/datagram/receive.cc \
	lib/datagram/receive_entries.h \
	lib/datagram/receive_entries.cc \
	lib/datagram/reply.h \
	lib/datagram/reply.cc
