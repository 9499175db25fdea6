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
  // as listen() compiles to a load, a test and a jump.
  Fn *get() noexcept {
    Fn *fn = fn_.load(std::memory_order_acquire);
    if (fn != nullptr) [[likely]] return fn;
    return bind();
  }


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

// A slot that always holds a function to call: the next definition once
// bound; before that, a first call that binds the slot and goes on. The
// forwarders on every program's hot path (read, recv, close, accept4,
// epoll_ctl) go through one, for one indirect jump and no test. Without a
// next definition the slot holds its fallback, the raw system call.
template <typename Fn>
class next_call;

template <typename R, typename... A>
class next_call<R(A...)> {
 public:
  using function = R(A...);

  // `first_call` is first_call_of<this slot, its fallback> (below). The
  // fallback is a template argument rather than a member, so that the
  // slot costs the loader one relocation less.
  constexpr next_call(const char *name, function *first_call) noexcept
      : name_(name), fn_(first_call) {}

  function *get() noexcept { return fn_.load(std::memory_order_acquire); }

  // The function a slot starts with: binds `Slot`, then calls what it bound.
  template <next_call &Slot, function *Fallback>
  static R first_call_of(A... args) {
    return Slot.bind(Fallback)(args...);
  }

 private:
  __attribute__((noinline)) function *bind(function *fallback) noexcept {
    function *fn = reinterpret_cast<function *>(dlsym(RTLD_NEXT, name_));
    if (fn == nullptr) fn = fallback;
    fn_.store(fn, std::memory_order_release);
    return fn;
  }

  const char *name_;
  std::atomic<function *> fn_;
};

}  // namespace proxyproto::real
