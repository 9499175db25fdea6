/* libproxyproto: the public C interface.
 *
 * Plain C (C99 and later) and C++. Link with `pkg-config --cflags --libs
 * libproxyproto`. */
#ifndef PROXYPROTO_H
#define PROXYPROTO_H

#include <proxyproto_version.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* PROXYPROTO_H */
