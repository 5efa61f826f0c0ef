// CountDownLatch: wait until three workers have reported in.
//
// Build: the example_latch target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_latch
// The workers here are threads; in real use they are other processes that
// open the same latch by name. Prints the error and exits 1 when the broker
// cannot be reached or a call fails.
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include "atomix/atomix.h"

int main() {
  atomix::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(3);
  absl::StatusOr<atomix::Client> client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status() << "\n";
    return 1;
  }

  absl::StatusOr<atomix::CountDownLatch> ready =
      atomix::GetCountDownLatch(*client, "examples/ready");
  if (!ready.ok()) {
    std::cerr << "open: " << ready.status() << "\n";
    return 1;
  }

  // Arm it: only a latch at zero can be armed, so a second coordinator
  // started by mistake gets false instead of resetting the count.
  absl::StatusOr<bool> armed = ready->TrySetCount(3);
  if (!armed.ok()) {
    std::cerr << "arm: " << armed.status() << "\n";
    return 1;
  }
  if (!*armed) {
    std::cout << "the latch is already armed; waiting for it\n";
  }

  std::vector<std::thread> workers;
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back([latch = *ready, i] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50 * i));
      absl::StatusOr<int64_t> left = latch.CountDown();
      if (left.ok()) std::cout << "worker " << i << " ready, " << *left << " to go\n";
    });
  }

  // Wait at most 10 s for the count to reach zero.
  absl::StatusOr<atomix::LatchOpened> opened =
      ready->Await(atomix::WithTimeout(std::chrono::seconds(10)));
  for (std::thread& t : workers) t.join();
  if (!opened.ok()) {
    std::cerr << "await: " << opened.status() << "\n";
    return 1;
  }
  std::cout << "all workers ready (generation " << opened->generation << ", revision "
            << opened->revision << ")\n";
  return 0;
}
