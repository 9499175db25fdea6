// Whether atomics of these types may live in memory shared between
// processes. They must be lock-free there: a lock-based atomic (libatomic's)
// takes a lock of this process, not of the shared memory. Known at compile
// time nearly everywhere; on armv5 (Debian armel) the atomics go through the
// kernel's compare-and-swap helper, which is lock-free but not known to be
// so at compile time, and the answer is asked at run time.
#pragma once

#include <atomic>

namespace proxyproto {

template <typename... T>
bool atomics_shareable() noexcept {
  if constexpr ((std::atomic<T>::is_always_lock_free && ...)) {
    return true;
  } else {
    return (std::atomic<T>{}.is_lock_free() && ...);
  }
}

}  // namespace proxyproto
