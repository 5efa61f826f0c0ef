// Shutdown on SIGTERM/SIGINT via a self-pipe; SIGUSR1, SIGUSR2 and SIGHUP
// run callbacks (the broker expires every session on SIGUSR1, resets every
// open stream and watch on SIGUSR2, and re-reads its certificates, tokens
// and access policy on SIGHUP).
//
//   InstallShutdownSignalHandlers();   // early in main
//   ...start serving...
//   int sig = WaitForShutdownSignal([&] { server->ExpireAllSessions(); },
//                                   [&] { server->ResetCalls(); });
//
// The handler only writes one byte to a pipe (async-signal-safe). A second
// SIGTERM/SIGINT while shutting down exits at once with status 128 + signal;
// SIGUSR1, SIGUSR2 and SIGHUP never count towards that.
//
// Thread-safety: install once from main before starting threads; wait from
// one thread.
#ifndef ATOMIX_BROKER_SERVER_SHUTDOWN_SIGNAL_H_
#define ATOMIX_BROKER_SERVER_SHUTDOWN_SIGNAL_H_

#include <functional>

#include "absl/status/status.h"

namespace atomix::broker {

absl::Status InstallShutdownSignalHandlers();

// Blocks until SIGTERM or SIGINT arrives; returns the signal number. Runs
// `on_usr1` / `on_usr2` / `on_hup` (if set) on this thread for every
// SIGUSR1 / SIGUSR2 / SIGHUP meanwhile.
int WaitForShutdownSignal(const std::function<void()>& on_usr1 = nullptr,
                          const std::function<void()>& on_usr2 = nullptr,
                          const std::function<void()>& on_hup = nullptr);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_SHUTDOWN_SIGNAL_H_
