#include "cli/src/signals.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace atomix::cli {
namespace {

sigset_t Blocked() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGUSR1);
  return set;
}

}  // namespace

static_assert(kWakeSignal == SIGUSR1);

void BlockSignals() {
  sigset_t set = Blocked();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitSignal(std::optional<std::chrono::milliseconds> timeout) {
  sigset_t set = Blocked();
  for (;;) {
    int sig = -1;
    if (timeout.has_value()) {
      timespec ts{};
      ts.tv_sec = static_cast<time_t>(timeout->count() / 1000);
      ts.tv_nsec = static_cast<long>((timeout->count() % 1000) * 1000000);
      sig = sigtimedwait(&set, nullptr, &ts);
      if (sig < 0 && errno == EAGAIN) return 0;
    } else {
      sig = sigwaitinfo(&set, nullptr);
    }
    if (sig > 0) return sig;
    // EINTR: a signal outside the set (SIGSTOP/SIGCONT); wait again.
  }
}

void Wake() { kill(getpid(), SIGUSR1); }

}  // namespace atomix::cli
