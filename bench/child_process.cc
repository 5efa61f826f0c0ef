#include "bench/child_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace atomix::bench {

absl::StatusOr<pid_t> SpawnSelf(const std::vector<std::string>& args, int stdout_fd) {
  std::vector<std::string> argv = {"/proc/self/exe"};
  argv.insert(argv.end(), args.begin(), args.end());
  // Everything the child needs is ready before fork(): between fork() and
  // exec() a multithreaded process may only make async-signal-safe calls.
  std::vector<char*> cargs;
  for (auto& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    if (stdout_fd >= 0) dup2(stdout_fd, STDOUT_FILENO);  // the duplicate is not close-on-exec
    execv(cargs[0], cargs.data());
    _exit(127);
  }
  return pid;
}

}  // namespace atomix::bench
