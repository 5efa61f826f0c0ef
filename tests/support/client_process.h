// ClientProcess: runs tests/helpers/atomix-test-client as a separate process
// (a real client with its own session) and reads the line it prints.
//
//   auto holder = ClientProcess::Start({endpoint, "2000", "lock", "db"});
//   auto line = (*holder)->ReadLine(std::chrono::seconds(10));   // "fence 3"
//   (*holder)->Kill(SIGKILL);
//
// Thread-safety: one thread drives a ClientProcess.
#ifndef ATOMIX_TESTS_SUPPORT_CLIENT_PROCESS_H_
#define ATOMIX_TESTS_SUPPORT_CLIENT_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atomix::testing {

class ClientProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ClientProcess>> Start(const std::vector<std::string>& args);
  ~ClientProcess();
  ClientProcess(const ClientProcess&) = delete;
  ClientProcess& operator=(const ClientProcess&) = delete;

  // The next line of the process's standard output, without the newline.
  absl::StatusOr<std::string> ReadLine(std::chrono::milliseconds timeout);
  // Sends `sig` and reaps the process.
  void Kill(int sig);
  // Sends `sig` without waiting.
  void Signal(int sig);
  // Waits for the process to end; returns its wait status, or
  // DEADLINE_EXCEEDED if it still runs after `timeout`.
  absl::StatusOr<int> Wait(std::chrono::milliseconds timeout);

 private:
  ClientProcess(pid_t pid, int out) : pid_(pid), out_(out) {}
  pid_t pid_;
  int out_;
  std::string buffered_;
};

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_CLIENT_PROCESS_H_
