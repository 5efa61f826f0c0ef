#include "tests/support/client_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace atomix::testing {

absl::StatusOr<std::unique_ptr<ClientProcess>> ClientProcess::Start(
    const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  std::vector<std::string> argv = {ATOMIX_TEST_CLIENT_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  // Ready before fork(): the child may not allocate (see Spawn).
  std::vector<char*> cargs;
  for (auto& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execv(cargs[0], cargs.data());
    _exit(127);
  }
  close(fds[1]);
  return std::unique_ptr<ClientProcess>(new ClientProcess(pid, fds[0]));
}

ClientProcess::~ClientProcess() {
  Kill(SIGKILL);
  close(out_);
}

absl::StatusOr<std::string> ClientProcess::ReadLine(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return absl::DeadlineExceededError("client process printed nothing");
    pollfd p{out_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[256];
    ssize_t n = read(out_, buf, sizeof(buf));
    if (n <= 0) return absl::UnavailableError("client process exited before printing a line");
    buffered_.append(buf, static_cast<size_t>(n));
  }
}

void ClientProcess::Kill(int sig) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace atomix::testing

namespace atomix::testing {

void ClientProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

absl::StatusOr<int> ClientProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("the process was already reaped");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    if (r < 0 && errno != EINTR) return absl::InternalError("waitpid failed");
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError("the client process is still running");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace atomix::testing
