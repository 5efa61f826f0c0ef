// Self-pipe signal handling.
#include "broker-sim/src/server/shutdown_signal.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace atomix::broker {
namespace {

int g_pipe[2] = {-1, -1};
// Lock-free, hence async-signal-safe.
std::atomic<int> g_signals{0};
static_assert(std::atomic<int>::is_always_lock_free);

void OnSignal(int sig) {
  const int saved_errno = errno;
  if (sig != SIGUSR1 && sig != SIGUSR2 && sig != SIGHUP && g_signals.fetch_add(1) > 0) {
    _exit(128 + sig);
  }
  const unsigned char byte = static_cast<unsigned char>(sig);
  // Nothing useful can be done if this fails; the pipe is never full.
  [[maybe_unused]] ssize_t n = write(g_pipe[1], &byte, 1);
  errno = saved_errno;
}

}  // namespace

absl::Status InstallShutdownSignalHandlers() {
  if (g_pipe[0] < 0 && pipe2(g_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(
        absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  struct sigaction action {};
  action.sa_handler = &OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  // A file size limit makes a log append fail (and is reported as a full
  // disk) instead of killing the broker.
  signal(SIGXFSZ, SIG_IGN);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP}) {
    if (sigaction(sig, &action, nullptr) != 0) {
      return absl::InternalError(
          absl::StrCat("sigaction: ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

int WaitForShutdownSignal(const std::function<void()>& on_usr1,
                          const std::function<void()>& on_usr2,
                          const std::function<void()>& on_hup) {
  unsigned char byte = 0;
  while (true) {
    const ssize_t n = read(g_pipe[0], &byte, 1);
    if (n == 1 && byte == SIGUSR1) {
      if (on_usr1) on_usr1();
      continue;
    }
    if (n == 1 && byte == SIGUSR2) {
      if (on_usr2) on_usr2();
      continue;
    }
    if (n == 1 && byte == SIGHUP) {
      if (on_hup) on_hup();
      continue;
    }
    if (n == 1) return byte;
    if (n < 0 && errno == EINTR) continue;
    return SIGTERM;  // the pipe broke: shut down rather than hang
  }
}

}  // namespace atomix::broker
