#include "filter.h"

#include <errno.h>
#include <linux/net.h>
#include <seccomp.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "program_access.h"

namespace proxyproto::run {

namespace {

// The architectures a program of this machine may be built for: the
// native one, and its compat ones, so that a 32-bit server is supervised
// rather than killed for an unknown architecture.
constexpr uint32_t compat_arches[] = {
#if defined(__x86_64__)
    SCMP_ARCH_X86, SCMP_ARCH_X32,
#elif defined(__aarch64__)
    SCMP_ARCH_ARM,
#elif defined(__s390x__)
    SCMP_ARCH_S390,
#elif defined(__powerpc64__) && defined(__BIG_ENDIAN__)
    SCMP_ARCH_PPC,
#endif
};

struct arch_numbers {
  uint32_t arch = 0;
  bool word32 = false;  // pointers and socketcall's array are 32 bits
  int accept = -1, accept4 = -1, getpeername = -1, getsockname = -1, socketcall = -1;
};
constexpr size_t max_arches = 1 + sizeof compat_arches / sizeof compat_arches[0];
// Above every system call number of the multiplexing architectures.
constexpr int max_system_call_number = 1024;
arch_numbers numbers[max_arches];
size_t arch_count = 0;

void learn_numbers(uint32_t arch) noexcept {
  if (arch_count == max_arches) return;
  arch_numbers &a = numbers[arch_count++];
  a.arch = arch;
  a.word32 = arch == SCMP_ARCH_X86 || arch == SCMP_ARCH_ARM || arch == SCMP_ARCH_S390 ||
             arch == SCMP_ARCH_PPC || arch == SCMP_ARCH_X32;
  auto number = [arch](const char *name) {
    const int nr = seccomp_syscall_resolve_name_arch(arch, name);
    return nr < 0 ? -1 : nr;  // __NR_SCMP_ERROR, or a pseudo number
  };
  a.accept = number("accept");
  a.accept4 = number("accept4");
  a.getpeername = number("getpeername");
  a.getsockname = number("getsockname");
  a.socketcall = number("socketcall");
  if (a.socketcall < 0) return;
  // On the architectures that multiplex (i386, s390, s390x), libseccomp
  // names the socket calls by pseudo numbers, its socketcall() forms, but
  // the kernel has direct numbers for them too since Linux 4.3 (accept4 is
  // 364 on i386 and s390x), which the filter traps as well: found by asking
  // the name of each number, once, at start.
  for (int nr = 0; nr < max_system_call_number; ++nr) {
    char *name = seccomp_syscall_resolve_num_arch(arch, nr);
    if (name == nullptr) continue;
    if (nr != a.socketcall) {
      if (std::strcmp(name, "accept") == 0) a.accept = nr;
      else if (std::strcmp(name, "accept4") == 0) a.accept4 = nr;
      else if (std::strcmp(name, "getpeername") == 0) a.getpeername = nr;
      else if (std::strcmp(name, "getsockname") == 0) a.getsockname = nr;
    }
    free(name);
  }
}

const arch_numbers *numbers_of(uint32_t arch) noexcept {
  for (size_t i = 0; i < arch_count; ++i)
    if (numbers[i].arch == arch) return &numbers[i];
  return nullptr;
}

}  // namespace

void learn_system_calls() noexcept {
  arch_count = 0;
  learn_numbers(seccomp_arch_native());
  for (const uint32_t arch : compat_arches) learn_numbers(arch);
}

int load_filter(const filter_choice &choice, const char **why) noexcept {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) {
    *why = "seccomp_init failed";
    errno = ENOMEM;
    return -1;
  }
  for (const uint32_t arch : compat_arches) seccomp_arch_add(ctx, arch);
  int rc = 0;
  auto add = [&](uint32_t action, const char *name) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (rc == 0 && nr != __NR_SCMP_ERROR) rc = seccomp_rule_add(ctx, action, nr, 0);
  };
  add(SCMP_ACT_NOTIFY, "accept");
  add(SCMP_ACT_NOTIFY, "accept4");
  add(SCMP_ACT_NOTIFY, "getpeername");
  if (choice.trap_getsockname) add(SCMP_ACT_NOTIFY, "getsockname");
  if (!choice.allow_io_uring) add(SCMP_ACT_ERRNO(ENOSYS), "io_uring_setup");
  if (rc != 0) {
    *why = "cannot build the seccomp filter";
    seccomp_release(ctx);
    errno = -rc;
    return -1;
  }
  rc = seccomp_load(ctx);
  if (rc != 0) {
    *why = "seccomp user notification is not available (SECCOMP_RET_USER_NOTIF)";
    seccomp_release(ctx);
    errno = -rc;
    return -1;
  }
  const int fd = seccomp_notify_fd(ctx);
  // The descriptor stays open: seccomp_release() does not close it.
  seccomp_release(ctx);
  if (fd < 0) {
    *why = "the seccomp filter gave no notification descriptor";
    errno = -fd;
    return -1;
  }
  return fd;
}

bool decode_call(int notify_fd, const seccomp_notif &n, trapped_call *out,
                 bool *fault) noexcept {
  *fault = false;
  out->id = n.id;
  out->tid = static_cast<pid_t>(n.pid);
  out->kind = call_kind::other;
  const arch_numbers *a = numbers_of(n.data.arch);
  if (a == nullptr) return true;
  const int nr = n.data.nr;
  uint64_t args[4] = {n.data.args[0], n.data.args[1], n.data.args[2], n.data.args[3]};
  int op = -1;
  if (nr == a->socketcall && a->socketcall >= 0) {
    op = static_cast<int>(n.data.args[0]);
    // socketcall(op, unsigned long args[]): the array, in the program.
    const size_t count = op == SYS_ACCEPT4 ? 4 : 3;
    if (a->word32) {
      uint32_t words[4] = {};
      switch (read_program(notify_fd, *out, n.data.args[1], words, count * sizeof words[0])) {
        case access::ok: break;
        case access::fault: *fault = true; return false;
        case access::gone: return false;
      }
      for (size_t i = 0; i < 4; ++i) args[i] = words[i];
    } else {
      uint64_t words[4] = {};
      switch (read_program(notify_fd, *out, n.data.args[1], words, count * sizeof words[0])) {
        case access::ok: break;
        case access::fault: *fault = true; return false;
        case access::gone: return false;
      }
      for (size_t i = 0; i < 4; ++i) args[i] = words[i];
    }
  } else if (nr == a->accept) {
    op = SYS_ACCEPT;
  } else if (nr == a->accept4) {
    op = SYS_ACCEPT4;
  } else if (nr == a->getpeername) {
    op = SYS_GETPEERNAME;
  } else if (nr == a->getsockname) {
    op = SYS_GETSOCKNAME;
  }
  switch (op) {
    case SYS_ACCEPT: out->kind = call_kind::accept; args[3] = 0; break;
    case SYS_ACCEPT4: out->kind = call_kind::accept; break;
    case SYS_GETPEERNAME: out->kind = call_kind::getpeername; break;
    case SYS_GETSOCKNAME: out->kind = call_kind::getsockname; break;
    default: return true;
  }
  if (a->word32) {
    args[1] &= 0xffffffffu;
    args[2] &= 0xffffffffu;
  }
  out->fd = static_cast<int>(args[0]);
  out->addr = args[1];
  out->addrlen = args[2];
  out->flags = static_cast<int>(args[3]);
  return true;
}

}  // namespace proxyproto::run
