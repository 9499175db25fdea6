// The next definition of a libc function in link order, bound on first
// use: one slot per function. Binding is idempotent (every thread that races
// finds the same symbol), so a relaxed-publish atomic pointer is enough and
// costs the hot path a single load; no lock, nothing at load time.
#pragma once

#include <dlfcn.h>

#include <atomic>

namespace proxyproto::real {

template <typename Fn>
class next_symbol {
 public:
  // `past_us`: the next definition after this library (RTLD_NEXT), as for
  // an interposed call; else the first one (RTLD_DEFAULT), as an import
  // would bind.
  constexpr explicit next_symbol(const char *name, bool past_us = true) noexcept
      : name_(name), past_us_(past_us) {}

  // The bound function, or null when there is none. Once bound this is a
  // load and a test: the binding is out of line, so that a forwarder such
  // as close() compiles to a load, a test and a jump.
  Fn *get() noexcept {
    Fn *fn = fn_.load(std::memory_order_acquire);
    if (fn != nullptr) [[likely]] return fn;
    return bind();
  }

  // The bound function without binding: null until get() has run once.
  Fn *bound() noexcept { return fn_.load(std::memory_order_acquire); }

 private:
  __attribute__((noinline)) Fn *bind() noexcept {
    Fn *fn = reinterpret_cast<Fn *>(
        dlsym(past_us_ ? RTLD_NEXT : RTLD_DEFAULT, name_));
    fn_.store(fn, std::memory_order_release);
    return fn;
  }

  const char *name_;
  bool past_us_;
  std::atomic<Fn *> fn_{nullptr};
};

}  // namespace proxyproto::real
