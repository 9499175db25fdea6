// The supervisor: never blocking on any client. One thread receives the
// trapped calls and answers them; the main thread's epoll set watches the
// launcher's signals, the listeners that blocking accept() calls wait on,
// and the connections whose header has not arrived yet. They share the
// state under one lock (supervisor.cc says why two).
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "settings/server_settings.h"

namespace proxyproto::run {

// What an epoll event is about: the tag in the top byte of its data, the
// descriptor in the rest.
enum class watch_tag : uint8_t { poke = 1, signals, listener, parked, wakeup };

// Adds or changes `fd` in the supervisor's set (EPOLLIN | extra events).
bool watch(int fd, watch_tag tag, uint32_t events) noexcept;
void unwatch(int fd) noexcept;

// The launcher's notification descriptor and settings, for the trap
// handlers.
int notify_descriptor() noexcept;
const server_config &settings() noexcept;

int64_t monotonic_ms() noexcept;

// Something is due at `due_ms` (monotonic_ms()): the main thread wakes by
// then. Called with the state lock held (by the trap handlers).
void deadline_set(int64_t due_ms) noexcept;

// Runs until the program and every process that inherited its filter are
// gone; returns the launcher's exit status (the program's, 128+N for
// signal N).
int supervise(pid_t child, int notify_fd, int signal_fd, const server_config &config) noexcept;

}  // namespace proxyproto::run
