# ---- lib/accept: the accept engine --------------------------------------------
# Which connections carry a header, reading it without blocking, parking
# the ones whose header is late, and handing each out when it is settled;
# and the connections an inetd or a service manager accepted for this
# process, read when the library loads.
lib_libproxyproto_engine_la_SOURCES += \
	lib/accept/accept_flow.h \
	lib/accept/accept_flow.cc \
	lib/accept/connection_scope.h \
	lib/accept/connection_scope.cc \
	lib/accept/header_reader.h \
	lib/accept/header_reader.cc \
	lib/accept/consumed_header.h \
	lib/accept/consumed_header.cc \
	lib/accept/pending_pool.h \
	lib/accept/pending_pool.cc \
	lib/accept/listener_readiness.h \
	lib/accept/listener_readiness.cc \
	lib/accept/readiness_table.h \
	lib/accept/readiness_table.cc \
	lib/accept/epoll_registrations.cc \
	lib/accept/shared_accept.h \
	lib/accept/shared_accept.cc \
	lib/accept/wait_sets.h \
	lib/accept/wait_sets.cc \
	lib/accept/inherited_connections.h \
	lib/accept/inherited_connections.cc
