// Between the core's header (C++, lib/core/proxy_header.h) and the public
// struct proxyproto_header (C, include/proxyproto.h).
#pragma once

#include "core/proxy_header.h"
#include "proxyproto.h"

namespace proxyproto {

// Fills *out from a core header parsed from the same buffer.
void to_public_header(const header &h, proxyproto_header *out) noexcept;

}  // namespace proxyproto
