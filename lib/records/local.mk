# ---- lib/records: what is remembered per descriptor ---------------------------
# The peer address that getpeername() reports, the headers kept for the
# public API and getsockname(), and which descriptors are UDP sockets the
# library handles; and the per-user mailbox in which a record travels with a
# descriptor passed to another process.
lib_libproxyproto_engine_la_SOURCES += \
	lib/records/descriptor_table.h \
	lib/records/any_record.h \
	lib/records/peer_addresses.h \
	lib/records/peer_addresses.cc \
	lib/records/kept_headers.h \
	lib/records/kept_headers.cc \
	lib/records/udp_marks.h \
	lib/records/udp_marks.cc \
	lib/records/passed_mailbox.h \
	lib/records/passed_mailbox.cc
