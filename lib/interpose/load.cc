// The library's one constructor, run when it is loaded (before main() when
// preloaded). It allocates nothing, performs no I/O and prints nothing
// unless a hand-over is present.
//
// Order matters: the hand-over (exec/handover.h) is taken out of the
// environment first, so that neither the settings' copy nor the program
// ever sees it; then the settings' copy is taken
// (settings/captured_environment.h).
#include <errno.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "exec/handover.h"
#include "settings/captured_environment.h"

namespace {

__attribute__((constructor)) void at_load() noexcept {
  const int saved_errno = errno;  // getauxval may set it
  const bool secure = getauxval(AT_SECURE) != 0;
  proxyproto::exec_handover::adopt(environ, secure);
  proxyproto::capture_environment(environ, program_invocation_short_name,
                                  secure);
  errno = saved_errno;
}

}  // namespace
