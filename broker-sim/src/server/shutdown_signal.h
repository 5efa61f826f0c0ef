// Shutdown on SIGTERM/SIGINT via a self-pipe.
//
//   InstallShutdownSignalHandlers();   // early in main
//   ...start serving...
//   int sig = WaitForShutdownSignal(); // blocks; then shut down gracefully
//
// The handler only writes one byte to a pipe (async-signal-safe). A second
// signal while shutting down exits at once with status 128 + signal.
//
// Thread-safety: install once from main before starting threads; wait from
// one thread.
#ifndef ATOMIX_BROKER_SERVER_SHUTDOWN_SIGNAL_H_
#define ATOMIX_BROKER_SERVER_SHUTDOWN_SIGNAL_H_

#include "absl/status/status.h"

namespace atomix::broker {

absl::Status InstallShutdownSignalHandlers();

// Blocks until SIGTERM or SIGINT arrives; returns the signal number.
int WaitForShutdownSignal();

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_SHUTDOWN_SIGNAL_H_
