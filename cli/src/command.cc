#include "cli/src/command.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "cli/src/exit_codes.h"
#include "cli/src/signals.h"

extern char** environ;

namespace atomix::cli {

absl::StatusOr<pid_t> StartCommand(const std::vector<std::string>& argv,
                                   const std::vector<std::string>& env) {
  std::vector<std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string var(*e);
    const std::string name = var.substr(0, var.find('=') + 1);
    bool replaced = false;
    for (const std::string& extra : env) replaced |= extra.rfind(name, 0) == 0;
    if (!replaced) vars.push_back(std::move(var));
  }
  vars.insert(vars.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (std::string& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (std::string& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGCHLD, SIGUSR1, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int err = posix_spawnp(&pid, argp[0], nullptr, &attr, argp.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (err != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run '", argv[0], "': ", std::strerror(err)));
  }
  return pid;
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitFailed;
}

int Supervise(pid_t pid, const std::function<bool()>& lost, std::chrono::milliseconds grace) {
  using Clock = std::chrono::steady_clock;
  bool terminated = false;
  bool killed = false;
  Clock::time_point kill_at;
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return terminated ? kExitLost : ExitCodeOf(status);
    if (!terminated && lost()) {
      kill(pid, SIGTERM);
      terminated = true;
      kill_at = Clock::now() + grace;
    }
    std::optional<std::chrono::milliseconds> timeout;
    if (terminated && !killed) {
      timeout = std::max(std::chrono::milliseconds(1),
                         std::chrono::ceil<std::chrono::milliseconds>(kill_at - Clock::now()));
    }
    const int sig = WaitSignal(timeout);
    if (sig == SIGINT || sig == SIGTERM) kill(pid, sig);
    if (sig == 0 && terminated && !killed) {
      kill(pid, SIGKILL);
      killed = true;
    }
  }
}

}  // namespace atomix::cli
