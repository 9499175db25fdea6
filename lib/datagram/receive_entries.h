// Where each exported receive call (read, readv, recv, recvfrom, recvmsg,
// recvmmsg) goes. Until the first UDP socket is created under
// LIBPROXYPROTO_UDP, straight to the C library's own function: every
// program that never has one (the library may be preloaded into all of
// them) pays one load and a jump. From then on, to the functions here that
// look the descriptor up (socket_states.h) and take the header off each
// datagram of a UDP socket in scope (receive.h). The switch is made once,
// by udp_socket_created() for the first socket, and never undone.
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

  // `first_call` is first_call_of<this entry, the C library's slot>. Only
  // the function to jump to is stored: one relocation for the loader.
  constexpr explicit entry(function *first_call) noexcept : fn_(first_call) {}

  function *get() noexcept { return fn_.load(std::memory_order_acquire); }

  // From now on, `handled`: the function that looks at the descriptor.
  void look_at_descriptors(function *handled) noexcept {
    fn_.store(handled, std::memory_order_release);
  }

  // The function an entry starts with: the call, through the C library's
  // slot (which binds it); then that function is installed, unless a UDP
  // socket came first.
  template <entry &E, real::next_call<R(A...)> &Libc>
  static R first_call_of(A... args) {
    const R result = Libc.get()(args...);
    function *expected = &first_call_of<E, Libc>;
    E.fn_.compare_exchange_strong(expected, Libc.get(), std::memory_order_acq_rel);
    return result;
  }

 private:
  std::atomic<function *> fn_;
};

extern entry<real::detail::recvfrom_fn> recvfrom_entry;
extern entry<real::detail::recv_fn> recv_entry;
extern entry<real::detail::read_fn> read_entry;
extern entry<real::detail::readv_fn> readv_entry;
extern entry<real::detail::recvmsg_fn> recvmsg_entry;
extern entry<real::detail::recvmmsg_fn> recvmmsg_entry;

// socket(): an AF_INET or AF_INET6 UDP socket, created while UDP handling
// is on. The first one switches every entry to the functions that look at
// the descriptor, before the socket is returned, so no receive on it can
// come first; then the socket is marked undecided, its scope decided on its
// first receive, once it is bound.
void udp_socket_created(int fd, int domain) noexcept;

}  // namespace proxyproto::receive_entries
