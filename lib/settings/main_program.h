// Facts about the process's own program that decide whether the library
// acts in it (see core/activation_rule.h). Called once, on the first
// intercepted accept, never at load time.
#pragma once

#include <cstddef>

namespace proxyproto {

// Whether the main executable's DT_NEEDED list names libproxyproto.so.N:
// the program was linked against the library and so asked for it. Reads
// the loaded program headers (dl_iterate_phdr): no I/O, no allocation.
bool main_program_needs_library() noexcept;

// The base name of the executable file (/proc/self/exe), for secure-mode
// processes, whose argv[0] is chosen by the unprivileged caller. False when
// it cannot be read.
bool executable_base_name(char *out, size_t capacity) noexcept;

}  // namespace proxyproto
