// Whether the server library acts in a process at all. Pure: the facts are
// gathered elsewhere (captured environment, the program's own ELF headers).
//
// Listed in /etc/ld.so.preload, the library is loaded into every process on
// the host, none of which has any LIBPROXYPROTO_* variable. It must then
// change nothing unless the administrator named the program, so it acts
// only when:
//   (a) `programs` is set and names this program; or, when it is not set,
//   (b) the process asked for the library: LD_PRELOAD names it, the main
//       program is linked against it, or a LIBPROXYPROTO_* variable other
//       than LIBPROXYPROTO_CONFIG is set.
#pragma once

#include <cstddef>

namespace proxyproto {

struct activation_facts {
  bool programs_set;                // `programs` has a value (valid or not)
  bool program_named;               // ... and it names this program
  bool preload_names_library;       // LD_PRELOAD lists libproxyproto.so
  bool main_program_links_library;  // DT_NEEDED of the executable lists it
  bool settings_in_environment;     // a LIBPROXYPROTO_* other than CONFIG
};

bool library_should_act(const activation_facts &facts) noexcept;

// Whether a file name, with or without directories, is libproxyproto.so or
// libproxyproto.so.N[.N...] (not libproxyproto_connect.so).
bool names_server_library(const char *path, size_t len) noexcept;

// Whether an LD_PRELOAD value (entries separated by spaces or colons, as
// ld.so(8) reads it) has an entry that names_server_library.
bool preload_list_names_library(const char *list, size_t len) noexcept;

// Whether a `programs` value ("nginx, haproxy") names `program`. Items are
// separated by commas; spaces and tabs around them are ignored; names are
// compared exactly. An empty item never matches.
bool program_list_names(const char *list, size_t len,
                        const char *program) noexcept;

// Whether a `programs` value is well-formed: non-empty items only.
bool program_list_valid(const char *list, size_t len) noexcept;

}  // namespace proxyproto
