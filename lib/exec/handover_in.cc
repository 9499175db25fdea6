// The new program's side of the hand-over, run once at load.
//
// The value is whatever the executing program put in the environment, so
// it is believed only as far as the kernel confirms it: a record is
// attached to a descriptor only when fstat() shows that descriptor is a
// socket with the entry's st_dev and st_ino. The descriptors looked at are
// the entries' own numbers and 0, 1 and 2, where inetd-like spawners
// (posix_spawn file actions included) put the connection under a number
// the executing program could not know. A socket matched under any number
// has the recorded peer, so which entry names it does not matter.
#include <errno.h>
#include <sys/auxv.h>
#include <sys/stat.h>

#include <cstring>

#include "exec/handover.h"
#include "records/peer_addresses.h"
#include "runtime/real_calls.h"

namespace proxyproto::exec_handover {

namespace {

// Takes every hand-over entry out of `environment`, keeping the others'
// order; returns the value when there was exactly one, else null.
const char *remove_variable(char **environment) noexcept {
  const char *value = nullptr;
  size_t found = 0, kept = 0;
  for (size_t i = 0; environment[i] != nullptr; ++i) {
    if (is_handover_entry(environment[i])) {
      value = environment[i] + variable_name_len + 1;
      ++found;
    } else {
      environment[kept++] = environment[i];
    }
  }
  environment[kept] = nullptr;
  return found == 1 ? value : nullptr;
}

void attach_if_named(int fd, const handover_entry *entries, size_t count) noexcept {
  struct stat st;
  if (real::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return;
  for (size_t i = 0; i < count; ++i) {
    if (entries[i].device == st.st_dev && entries[i].inode == st.st_ino) {
      peer_addresses::store(fd, entries[i].address, entries[i].length);
      return;
    }
  }
}

// Attaches the records `value` names.
void attach_named(const char *value) noexcept {
  handover_entry entries[handover_max_entries];
  const long count = parse_handover(value, std::strlen(value), entries,
                                    handover_max_entries);
  if (count <= 0) return;
  const size_t n = static_cast<size_t>(count);
  for (int fd = 0; fd <= 2; ++fd) attach_if_named(fd, entries, n);
  for (size_t i = 0; i < n; ++i)
    if (entries[i].fd > 2) attach_if_named(entries[i].fd, entries, n);
}

}  // namespace

void adopt(char **environment, bool secure) noexcept {
  if (environment == nullptr) return;
  const char *value = remove_variable(environment);
  if (value != nullptr && !secure) attach_named(value);
}

void adopt_at_load(char **environment) noexcept {
  if (environment == nullptr) return;
  const char *value = remove_variable(environment);
  if (value == nullptr) return;
  const int saved_errno = errno;
  // Unanswered, AT_SECURE counts as set: the hand-over is then ignored.
  if (real::getauxval(AT_SECURE, 1) == 0) attach_named(value);
  errno = saved_errno;
}

}  // namespace proxyproto::exec_handover
