// The library's one constructor, run when it is loaded (before main() when
// preloaded). glibc calls a shared object's constructors with main()'s
// arguments and environment. Unless a hand-over is present it allocates
// nothing, performs no I/O, prints nothing and calls no libc function.
//
// Order matters: the hand-over (exec/handover.h) is taken out of the
// environment first, so that neither the settings' copy nor the program
// ever sees it; then the settings' copy is taken
// (settings/captured_environment.h); then the headers of connections an
// inetd or a service manager accepted for this process are read, and the
// environment describes the client before the program reads it
// (accept/inherited_connections.h).
#include "accept/inherited_connections.h"
#include "exec/handover.h"
#include "settings/captured_environment.h"

namespace {

__attribute__((constructor)) void at_load(int argc, char **argv,
                                          char **envp) noexcept {
  proxyproto::exec_handover::adopt_at_load(envp);
  proxyproto::capture_loaded_environment(argc, argv, envp);
  proxyproto::inherited_connections::read_at_load(envp);
}

}  // namespace
