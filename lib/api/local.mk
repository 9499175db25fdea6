# ---- lib/api: the public C interface (include/proxyproto.h) -------------------
lib_libproxyproto_engine_la_SOURCES += \
	lib/api/convert.h \
	lib/api/internal_names.h \
	lib/api/parse.cc \
	lib/api/write.cc \
	lib/api/tlv.cc \
	lib/api/describe.cc \
	lib/api/get_header.cc
