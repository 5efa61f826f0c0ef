#include "tests/support/broker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/support/process.h"

namespace atomix::testing {

absl::StatusOr<std::unique_ptr<BrokerProcess>> BrokerProcess::Start() { return Start(Options()); }

absl::StatusOr<std::unique_ptr<BrokerProcess>> BrokerProcess::Start(Options options) {
  std::unique_ptr<BrokerProcess> p(new BrokerProcess(std::move(options)));
  p->dir_ = MakeTempDir("atomix-broker");
  if (p->options_.as_nobody) chmod(p->dir_.c_str(), 0777);  // for its port file
  absl::Status s = p->Launch(p->options_.port);
  if (!s.ok()) return s;
  return p;
}

BrokerProcess::~BrokerProcess() {
  if (pid_ > 0) Kill(SIGKILL);
  if (!dir_.empty() && dir_ != "/tmp") {
    std::string port_file = dir_ + "/port";
    unlink(port_file.c_str());
    std::string log = dir_ + "/broker.log";
    unlink(log.c_str());
    rmdir(dir_.c_str());
  }
}

std::string BrokerProcess::log() const { return ReadFile(dir_ + "/broker.log"); }

std::string BrokerProcess::endpoint() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status BrokerProcess::Launch(int port) {
  const std::string port_file = dir_ + "/port";
  const std::string log_file = dir_ + "/broker.log";
  unlink(port_file.c_str());

  std::vector<std::string> argv = {ATOMIX_BROKER_BIN, "--listen", absl::StrCat("127.0.0.1:", port),
                                   "--port-file", port_file, "--log-level", "warn"};
  // Tests get the memory store unless they ask for another, with
  // revisions from 1 so they can name exact versions.
  if (std::find(options_.args.begin(), options_.args.end(), "--store") == options_.args.end()) {
    argv.insert(argv.end(), {"--store", "memory", "--first-revision", "0"});
  }
  argv.insert(argv.end(), options_.args.begin(), options_.args.end());

  absl::StatusOr<pid_t> pid = Spawn(argv, log_file, options_.as_nobody);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;

  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("atomix-broker exited with ", ExitCode(status),
                                              " during start: ", ReadFile(log_file)));
    }
    std::ifstream in(port_file);
    int bound = 0;
    if (in >> bound && bound > 0) {
      port_ = bound;
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill(SIGKILL);
  return absl::DeadlineExceededError("atomix-broker did not write its port file in time");
}

int BrokerProcess::Kill(int sig) {
  if (pid_ <= 0) return -1;
  const int status = KillAndReap(pid_, sig);
  pid_ = -1;
  return status;
}

int BrokerProcess::Stop() { return ExitCode(Kill(SIGTERM)); }

absl::Status BrokerProcess::Restart() {
  if (pid_ > 0) Kill(SIGKILL);
  // The old socket may linger for a moment; retry the bind briefly.
  absl::Status s;
  for (int attempt = 0; attempt < 50; ++attempt) {
    s = Launch(port_);
    if (s.ok()) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return s;
}

void ShrinkSanitizerQuarantineOfChildren() {
#if defined(__SANITIZE_ADDRESS__)
  const char* current = std::getenv("ASAN_OPTIONS");
  std::string options = current == nullptr ? "" : current;
  if (options.find("quarantine_size_mb=8") != std::string::npos) return;
  if (!options.empty()) options += ":";
  options += "quarantine_size_mb=8";
  setenv("ASAN_OPTIONS", options.c_str(), 1);
#endif
}

}  // namespace atomix::testing
