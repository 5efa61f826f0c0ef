// BrokerProcess: runs the real atomix-broker binary on a loopback port for
// integration tests, and can kill and restart it on the same port.
//
//   auto broker = atomix::testing::BrokerProcess::Start();
//   ASSERT_TRUE(broker.ok()) << broker.status();
//   atomix::ClientOptions o; o.endpoints = {(*broker)->endpoint()};
//
// Thread-safety: one thread drives a BrokerProcess.
#ifndef ATOMIX_TESTS_SUPPORT_BROKER_PROCESS_H_
#define ATOMIX_TESTS_SUPPORT_BROKER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atomix::testing {

class BrokerProcess {
 public:
  struct Options {
    // Extra command-line flags for atomix-broker. Without --store, the
    // broker runs the memory store with revisions from 1
    // (--first-revision 0).
    std::vector<std::string> args;
    // 0 picks a free port.
    int port = 0;
    // Run the broker as user `nobody` (when the test runs as root), for
    // tests of file permissions, which root ignores.
    bool as_nobody = false;
    std::chrono::milliseconds start_timeout{15000};
  };

  static absl::StatusOr<std::unique_ptr<BrokerProcess>> Start();
  static absl::StatusOr<std::unique_ptr<BrokerProcess>> Start(Options options);

  ~BrokerProcess();
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  int port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string endpoint() const;
  pid_t pid() const { return pid_; }
  // Where the broker's stderr (its log) goes.
  std::string log_file() const { return dir_ + "/broker.log"; }
  bool running() const { return pid_ > 0; }
  // What the broker wrote to stderr so far (its log, at --log-level warn
  // unless the args say otherwise, and gRPC's own errors).
  std::string log() const;

  // Sends `sig` and reaps the process. Returns its wait status.
  int Kill(int sig);
  // SIGTERM and wait; returns the exit code (or 128+signal).
  int Stop();
  // Starts the broker again on the same port with the same flags.
  absl::Status Restart();

 private:
  explicit BrokerProcess(Options options) : options_(std::move(options)) {}
  absl::Status Launch(int port);

  Options options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// In a build with AddressSanitizer, gives brokers started from now on a
// small (8 MB) quarantine of freed memory instead of ASan's default 256 MB,
// which would swamp a test that measures the broker's memory. Does nothing
// in other builds.
void ShrinkSanitizerQuarantineOfChildren();

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_BROKER_PROCESS_H_
