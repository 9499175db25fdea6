# ---- lib/interpose: the exported libc functions --------------------------------
# Each a few lines over the rooms above; the only sources of
# libproxyproto.la itself, so that the white-box tests can link the engine
# (lib/libproxyproto_engine.la) without interposing anything.
lib_libproxyproto_la_SOURCES += \
	lib/interpose/accept.cc \
	lib/interpose/getpeername.cc \
	lib/interpose/getsockname.cc \
	lib/interpose/fd_lifetime.cc \
	lib/interpose/exec.cc \
	lib/interpose/load.cc \
	lib/interpose/socket.cc \
	lib/interpose/recv.cc \
	lib/interpose/send.cc \
	lib/interpose/epoll.cc \
	lib/interpose/wait.cc \
	lib/interpose/time64.cc
