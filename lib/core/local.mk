# ---- lib/core: the protocol, pure -------------------------------------------
# Parsers, writer, sockaddr conversion, allow and port lists, setting text:
# no sockets, no globals, no allocation. Linked into both preload libraries
# and into every unit test.
noinst_LTLIBRARIES += lib/libproxyproto_core.la
lib_libproxyproto_core_la_SOURCES = \
	lib/core/proxy_header.h \
	lib/core/signatures.h \
	lib/core/parse_header.cc \
	lib/core/parse_v1.cc \
	lib/core/parse_v2.cc \
	lib/core/usual_header.h \
	lib/core/header_writer.h \
	lib/core/header_writer.cc \
	lib/core/inet_text.h \
	lib/core/inet_text.cc \
	lib/core/crc32c.h \
	lib/core/crc32c.cc \
	lib/core/tlv.h \
	lib/core/tlv.cc \
	lib/core/sockaddr_convert.h \
	lib/core/sockaddr_convert.cc \
	lib/core/setting_values.h \
	lib/core/setting_values.cc \
	lib/core/address_list.h \
	lib/core/address_list.cc \
	lib/core/port_list.h \
	lib/core/port_list.cc \
	lib/core/config_text.h \
	lib/core/config_text.cc \
	lib/core/setting_sources.h \
	lib/core/setting_sources.cc \
	lib/core/activation_rule.h \
	lib/core/activation_rule.cc \
	lib/core/tlv_names.h \
	lib/core/tlv_names.cc \
	lib/core/tlv_setting.h \
	lib/core/tlv_setting.cc \
	lib/core/handover_text.h \
	lib/core/handover_text.cc \
	lib/core/datagram.h \
	lib/core/datagram.cc
