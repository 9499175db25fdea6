// The next definition of a libc function in link order (dlsym RTLD_NEXT),
// bound on first use. Binding is idempotent (every thread that races finds
// the same symbol), so a relaxed-publish atomic pointer is enough and costs
// the hot path a single load; no lock, nothing at load time.
#pragma once

#include <dlfcn.h>

#include <atomic>

namespace proxyproto::real {

template <typename Fn>
class next_symbol {
 public:
  constexpr explicit next_symbol(const char *name) noexcept : name_(name) {}

  // Once bound, a load and a test: the binding is out of line, so that a
  // forwarder compiles to a load, a test and a jump.
  Fn *get() noexcept {
    Fn *fn = fn_.load(std::memory_order_acquire);
    if (fn != nullptr) [[likely]] return fn;
    return bind();
  }

 private:
  __attribute__((noinline)) Fn *bind() noexcept {
    Fn *fn = reinterpret_cast<Fn *>(dlsym(RTLD_NEXT, name_));
    fn_.store(fn, std::memory_order_release);
    return fn;
  }

  const char *name_;
  std::atomic<Fn *> fn_{nullptr};
};

}  // namespace proxyproto::real
