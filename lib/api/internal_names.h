// Hidden second names of the exported proxyproto_* functions that the
// library calls itself. A call to an exported name from inside the library
// goes through the PLT and binds to the first definition in the process,
// which may be an application's or another library's function of the same
// name; these names bind inside the library. tests/abi/self_calls.sh holds
// the library to it: no PLT slot for any function it exports.
#pragma once

#include "proxyproto.h"

// In the file that defines `name` (the alias must sit beside its target).
#define PROXYPROTO_INTERNAL_NAME(name)        \
  extern "C" decltype(name) name##_internal \
      __attribute__((visibility("hidden"), alias(#name)))

extern "C" {
#define PP_DECLARE_INTERNAL(name) \
  decltype(name) name##_internal __attribute__((visibility("hidden")))
PP_DECLARE_INTERNAL(proxyproto_parse);
PP_DECLARE_INTERNAL(proxyproto_describe);
PP_DECLARE_INTERNAL(proxyproto_tlv_begin);
PP_DECLARE_INTERNAL(proxyproto_tlv_next);
PP_DECLARE_INTERNAL(proxyproto_tlv_name);
PP_DECLARE_INTERNAL(proxyproto_get_aws_vpce_id);
PP_DECLARE_INTERNAL(proxyproto_get_azure_linkid);
PP_DECLARE_INTERNAL(proxyproto_get_gcp_psc_id);
PP_DECLARE_INTERNAL(proxyproto_get_ssl);
#undef PP_DECLARE_INTERNAL
}
