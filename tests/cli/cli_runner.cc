#include "tests/cli/cli_runner.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/support/process.h"

namespace atomix::testing {

absl::StatusOr<std::unique_ptr<CliProcess>> CliProcess::Start(const std::vector<std::string>& args,
                                                              const std::vector<std::string>& env) {
  std::unique_ptr<CliProcess> p(new CliProcess());
  p->dir_ = MakeTempDir("atomix-cli");
  // env and sh exec in place, so the pid is atomix's own.
  std::vector<std::string> argv = {"/usr/bin/env", "-u", "ATOMIX_BROKER"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.insert(argv.end(), {"/bin/sh", "-c",
                           absl::StrCat("exec \"$0\" \"$@\" >'", p->dir_, "/out' 2>'", p->dir_,
                                        "/err'"),
                           ATOMIX_CLI_BIN});
  argv.insert(argv.end(), args.begin(), args.end());
  auto pid = Spawn(argv, p->dir_ + "/log");
  if (!pid.ok()) return pid.status();
  p->pid_ = *pid;
  return p;
}

CliProcess::~CliProcess() {
  if (pid_ > 0) KillAndReap(pid_, SIGKILL);
  for (const char* f : {"/out", "/err", "/log"}) unlink((dir_ + f).c_str());
  rmdir(dir_.c_str());
}

std::string CliProcess::out() const { return ReadFile(dir_ + "/out"); }
std::string CliProcess::err() const { return ReadFile(dir_ + "/err"); }

bool CliProcess::WaitForOut(const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (out().find(text) != std::string::npos) return true;
    if (Exited()) return out().find(text) != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

bool CliProcess::Exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    code_ = ExitCode(status);
    pid_ = -1;
    return true;
  }
  return false;
}

int CliProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Exited()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "atomix did not exit in time; killed";
      code_ = ExitCode(KillAndReap(pid_, SIGKILL));
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return code_;
}

void CliProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

CliResult RunCli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  CliResult r;
  auto p = CliProcess::Start(args, env);
  if (!p.ok()) {
    r.err = std::string(p.status().message());
    return r;
  }
  r.code = (*p)->Wait();
  r.out = (*p)->out();
  r.err = (*p)->err();
  return r;
}

}  // namespace atomix::testing
