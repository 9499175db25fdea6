// Holds a pthread mutex for the rest of a scope: the library's own
// lock_guard over the plain pthread_mutex_t its tables use (statically
// initialised, re-initialised in a fork child, shared by all the rooms).
#pragma once

#include <pthread.h>

namespace proxyproto {

class mutex_guard {
 public:
  explicit mutex_guard(pthread_mutex_t &mutex) noexcept : mutex_(&mutex) {
    pthread_mutex_lock(mutex_);
  }
  ~mutex_guard() { pthread_mutex_unlock(mutex_); }
  mutex_guard(const mutex_guard &) = delete;
  mutex_guard &operator=(const mutex_guard &) = delete;

 private:
  pthread_mutex_t *mutex_;
};

}  // namespace proxyproto
