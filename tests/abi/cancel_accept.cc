// A thread blocked in accept() under the library is cancelled: the C++
// destructors in its caller's frames must run, as they do without the
// library. Cancellation unwinds through the library's frames, which needs
// their unwind tables.
//
//   cancel_accept plain    the thread blocks in the kernel's accept
//   cancel_accept parked   a silent client is parked first, so the thread
//                          blocks in the library's own poll()
//
// Prints "accept is in LIBRARY", then "destructor ran" and exits 0, or says
// what went wrong and exits 1.
#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>

namespace {

std::atomic<bool> destructor_ran{false};
std::atomic<bool> about_to_accept{false};
int listener = -1;

struct guard {
  guard() = default;
  guard(const guard &) = delete;
  guard &operator=(const guard &) = delete;
  ~guard() { destructor_ran = true; }
};

void *acceptor(void *) {
  guard g;
  about_to_accept = true;
  const int fd = accept(listener, nullptr, nullptr);
  std::printf("accept returned %d: not cancelled\n", fd);
  return nullptr;
}

}  // namespace

int main(int argc, char **argv) {
  const bool parked = argc > 1 && std::strcmp(argv[1], "parked") == 0;
  Dl_info info{};
  void *accept_fn = dlsym(RTLD_DEFAULT, "accept");
  if (accept_fn == nullptr || dladdr(accept_fn, &info) == 0) return 1;
  std::printf("accept is in %s\n", info.dli_fname);

  listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(listener, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
      listen(listener, 8) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr *>(&a), &len) != 0)
    return 1;
  int silent = -1;
  if (parked) {
    silent = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(silent, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) return 1;
  }

  pthread_t thread;
  if (pthread_create(&thread, nullptr, acceptor, nullptr) != 0) return 1;
  while (!about_to_accept) usleep(1000);
  usleep(200 * 1000);  // well inside accept() (and past the brief wait)
  pthread_cancel(thread);
  void *result = nullptr;
  pthread_join(thread, &result);
  if (result != PTHREAD_CANCELED) {
    std::printf("the thread was not cancelled\n");
    return 1;
  }
  if (!destructor_ran) {
    std::printf("destructor did not run\n");
    return 1;
  }
  std::printf("destructor ran\n");
  if (silent >= 0) close(silent);
  return 0;
}
