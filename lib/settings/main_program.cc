#include "settings/main_program.h"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <cstring>

#include "core/activation_rule.h"

namespace proxyproto {

namespace {

// dl_iterate_phdr visits the main program first; look at it and stop.
int inspect_main_program(dl_phdr_info *info, size_t, void *data) noexcept {
  bool *needed = static_cast<bool *>(data);
  const ElfW(Dyn) *dynamic = nullptr;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) {
      dynamic = reinterpret_cast<const ElfW(Dyn) *>(info->dlpi_addr +
                                                     info->dlpi_phdr[i].p_vaddr);
      break;
    }
  }
  if (dynamic == nullptr) return 1;  // a static program: nothing needed
  ElfW(Addr) strtab = 0;
  for (const ElfW(Dyn) *d = dynamic; d->d_tag != DT_NULL; ++d)
    if (d->d_tag == DT_STRTAB) strtab = d->d_un.d_ptr;
  if (strtab == 0) return 1;
  // ld.so relocates .dynamic in place on most targets; where it is
  // read-only (MIPS, RISC-V) the address is still relative to the load base.
  if (strtab < info->dlpi_addr) strtab += info->dlpi_addr;
  const char *strings = reinterpret_cast<const char *>(strtab);
  for (const ElfW(Dyn) *d = dynamic; d->d_tag != DT_NULL; ++d) {
    if (d->d_tag != DT_NEEDED) continue;
    const char *name = strings + d->d_un.d_val;
    if (names_server_library(name, std::strlen(name))) {
      *needed = true;
      break;
    }
  }
  return 1;
}

}  // namespace

bool main_program_needs_library() noexcept {
  bool needed = false;
  dl_iterate_phdr(inspect_main_program, &needed);
  return needed;
}

bool executable_base_name(char *out, size_t capacity) noexcept {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof path) return false;
  size_t start = static_cast<size_t>(n);
  while (start > 0 && path[start - 1] != '/') --start;
  const size_t len = static_cast<size_t>(n) - start;
  if (len == 0 || len >= capacity) return false;
  std::memcpy(out, path + start, len);
  out[len] = '\0';
  return true;
}

}  // namespace proxyproto
