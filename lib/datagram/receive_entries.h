// Where each exported receive call (read, readv, recv, recvfrom, recvmsg,
// recvmmsg) goes. Until the first UDP socket is created under
// LIBPROXYPROTO_UDP, straight to the C library's own function: every
// program that never has one (the library may be preloaded into all of
// them) pays one load and a jump. From then on, to the functions here that
// look the descriptor up (socket_states.h) and take the header off each
// datagram of a UDP socket in scope (receive.h). The switch is made once,
// by socket_states when it marks the first socket, and never undone.
#pragma once

#include <atomic>

#include "runtime/next_symbol.h"
#include "runtime/real_datagram_calls.h"

namespace proxyproto::receive_entries {

template <typename Fn>
class entry;

template <typename R, typename... A>
class entry<R(A...)> {
 public:
  using function = R(A...);

  // `first_call` is first_call_of<this entry>; `libc` the C library's
  // function's slot; `handled` the function that looks at the descriptor.
  constexpr entry(function *first_call, real::next_call<R(A...)> &libc,
                  function *handled) noexcept
      : fn_(first_call), libc_(libc), handled_(handled) {}

  function *get() noexcept { return fn_.load(std::memory_order_acquire); }

  void look_at_descriptors() noexcept { fn_.store(handled_, std::memory_order_release); }

  // The function an entry starts with: installs the C library's function,
  // unless a UDP socket came first, then calls what is installed.
  template <entry &E>
  static R first_call_of(A... args) {
    function *expected = &first_call_of<E>;
    E.fn_.compare_exchange_strong(expected, E.libc_.resolve(), std::memory_order_acq_rel);
    return E.get()(args...);
  }

 private:
  std::atomic<function *> fn_;
  real::next_call<R(A...)> &libc_;
  function *handled_;
};

extern entry<real::detail::recvfrom_fn> recvfrom_entry;
extern entry<real::detail::recv_fn> recv_entry;
extern entry<real::detail::read_fn> read_entry;
extern entry<real::detail::readv_fn> readv_entry;
extern entry<real::detail::recvmsg_fn> recvmsg_entry;
extern entry<real::detail::recvmmsg_fn> recvmmsg_entry;

// Every entry, from now on, to the functions that look at the descriptor.
void look_at_descriptors() noexcept;

}  // namespace proxyproto::receive_entries
