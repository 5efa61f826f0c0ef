// Barrier: three parties compute in rounds and wait for each other at the
// end of every round.
//
// Build: the example_barrier target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_barrier
// The parties here are threads of one client; in real use they are other
// processes that open the same barrier by name with the same party count.
// Prints the error and exits 1 when the broker cannot be reached or a call
// fails.
#include <atomic>
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

  // Every party opens it with the same count; another count fails with
  // FAILED_PRECONDITION.
  absl::StatusOr<atomix::Barrier> round = atomix::GetBarrier(*client, "examples/round", 3);
  if (!round.ok()) {
    std::cerr << "open: " << round.status() << "\n";
    return 1;
  }

  std::atomic<int> failures{0};
  std::vector<std::thread> parties;
  for (int party = 0; party < 3; ++party) {
    parties.emplace_back([barrier = *round, party, &failures] {
      for (int step = 0; step < 2; ++step) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * party));  // the work
        absl::StatusOr<atomix::BarrierPassed> passed =
            barrier.Await(atomix::WithTimeout(std::chrono::seconds(10)));
        if (absl::IsAborted(passed.status())) {
          // A waiting party's session ended: the barrier broke and this
          // round starts over.
          --step;
          continue;
        }
        if (!passed.ok()) {
          std::cerr << "await: " << passed.status() << "\n";
          ++failures;
          return;
        }
        std::cout << "party " << party << " passed generation " << passed->generation
                  << " as arrival " << passed->arrival << "\n";
      }
    });
  }
  for (std::thread& t : parties) t.join();
  return failures == 0 ? 0 : 1;
}
