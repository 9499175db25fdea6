// Marks the functions the preload libraries export: the interposed libc
// calls. Everything else is hidden (-fvisibility=hidden) and the version
// scripts (lib/libproxyproto.sym, connect/libproxyproto_connect.sym) list
// the same names.
#pragma once

#define PROXYPROTO_EXPORT __attribute__((visibility("default")))
