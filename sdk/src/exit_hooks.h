// Internal: closes the default client's session when the process exits.
//
// The default client is never destroyed (see DefaultClient() in
// atomix/client.h), so its session would otherwise live on for a TTL after
// the process is gone, holding its locks. These hooks only send the
// session close, with a short deadline, and destroy nothing, so they are
// safe however static destruction is ordered.
//
// Thread-safety: every function is safe from any thread.
#ifndef ATOMIX_SDK_SRC_EXIT_HOOKS_H_
#define ATOMIX_SDK_SRC_EXIT_HOOKS_H_

#include <chrono>

namespace atomix::internal {

class ClientCore;

// Makes `core` (never destroyed) the one whose session is closed at exit,
// and installs the hooks once: an atexit handler, and handlers for SIGTERM
// and SIGINT where their disposition is still the default. A signal closes
// the session on a thread of the hooks, then ends the process with the
// signal's default action.
void InstallExitHooks(ClientCore* core);

// Closes the session of the core given to InstallExitHooks, once; waits at
// most `grace`. Later calls do nothing.
void CloseAtExit(std::chrono::milliseconds grace);

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_EXIT_HOOKS_H_
