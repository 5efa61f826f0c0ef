// Exit hooks of the default client: atexit, and SIGTERM/SIGINT handlers
// that hand the work to a thread (a signal handler may only do
// async-signal-safe things: here, one write() to a pipe).
#include "sdk/src/exit_hooks.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

constexpr std::chrono::milliseconds kExitGrace(500);

std::atomic<ClientCore*> g_core{nullptr};
std::atomic<int> g_signal{0};
int g_pipe[2] = {-1, -1};

void OnExit() { CloseAtExit(kExitGrace); }

void OnSignal(int sig) {
  int none = 0;
  if (!g_signal.compare_exchange_strong(none, sig)) {
    // A second signal while the session closes: end now.
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  const int saved = errno;
  const char byte = 1;
  (void)!write(g_pipe[1], &byte, 1);
  errno = saved;
}

void SignalThread() {
  pthread_setname_np(pthread_self(), "atomix-signal");
  char byte = 0;
  while (read(g_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
  const int sig = g_signal.load();
  CloseAtExit(kExitGrace);
  // Now the signal does what it would have done without us.
  signal(sig, SIG_DFL);
  raise(sig);
}

// Installs OnSignal for `sig` if the application left it at the default.
bool HookSignal(int sig) {
  struct sigaction old {};
  if (sigaction(sig, nullptr, &old) != 0) return false;
  if ((old.sa_flags & SA_SIGINFO) != 0 || old.sa_handler != SIG_DFL) return false;
  struct sigaction mine {};
  mine.sa_handler = &OnSignal;
  sigemptyset(&mine.sa_mask);
  mine.sa_flags = SA_RESTART;
  return sigaction(sig, &mine, nullptr) == 0;
}

}  // namespace

void InstallExitHooks(ClientCore* core) {
  static std::once_flag once;
  std::call_once(once, [core] {
    g_core.store(core);
    std::atexit(&OnExit);
    if (pipe2(g_pipe, O_CLOEXEC) != 0) return;
    // The thread waits for a signal for the rest of the process's life.
    std::thread(&SignalThread).detach();
    HookSignal(SIGTERM);
    HookSignal(SIGINT);
  });
}

void CloseAtExit(std::chrono::milliseconds grace) {
  ClientCore* core = g_core.exchange(nullptr);
  if (core != nullptr) core->EndSession(std::chrono::steady_clock::now() + grace);
}

}  // namespace atomix::internal
