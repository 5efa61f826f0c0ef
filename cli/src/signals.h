// Signals for the long-running commands (watch, lock, elect): the main
// thread waits for SIGINT, SIGTERM, SIGCHLD, or a wake-up from another
// thread, with sigwait instead of handlers.
//
//   BlockSignals();                  // first, before any thread starts
//   ... start threads that call Wake() when something happens ...
//   int sig = WaitSignal(std::nullopt);
//
// Thread-safety: BlockSignals() must run on the main thread before the
// client (and its threads) exists, so that every thread inherits the mask;
// one thread calls WaitSignal(); Wake() is safe from any thread.
#ifndef ATOMIX_CLI_SIGNALS_H_
#define ATOMIX_CLI_SIGNALS_H_

#include <chrono>
#include <optional>

namespace atomix::cli {

// The signal Wake() sends.
inline constexpr int kWakeSignal = 10;  // SIGUSR1

// Blocks SIGINT, SIGTERM, SIGCHLD and SIGUSR1 in the calling thread.
void BlockSignals();

// Waits for one of the blocked signals; returns it, or 0 once `timeout`
// passes.
int WaitSignal(std::optional<std::chrono::milliseconds> timeout);

// Makes WaitSignal() return kWakeSignal.
void Wake();

}  // namespace atomix::cli

#endif  // ATOMIX_CLI_SIGNALS_H_
