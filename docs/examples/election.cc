// Election: enter as a candidate, act while leader, step down.
//
// Build: the example_election target. Run against a broker at ATOMIX_BROKER
// (default 127.0.0.1:5679):
//   ./example_election node-1
// Run a second one (node-2) meanwhile to see it wait its turn. Prints the
// error and exits 1 when the broker cannot be reached or a call fails.
#include <chrono>
#include <iostream>
#include <optional>
#include <string>

#include "atomix/atomix.h"

int main(int argc, char** argv) {
  const std::string me = argc > 1 ? argv[1] : "node-1";
  atomix::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(3);
  absl::StatusOr<atomix::Client> client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status() << "\n";
    return 1;
  }

  absl::StatusOr<atomix::Election> election =
      atomix::GetElection(*client, "examples/scheduler", atomix::WithCandidateID(me));
  if (!election.ok()) {
    std::cerr << "open: " << election.status() << "\n";
    return 1;
  }

  // Enter returns the term after it: the leader, the term number and every
  // candidate in priority order.
  absl::StatusOr<atomix::Term> term = election->Enter();
  if (!term.ok()) {
    std::cerr << "enter: " << term.status() << "\n";
    return 1;
  }
  std::cout << "leader " << term->leader << " in term " << term->term << " of "
            << term->candidates.size() << " candidates\n";

  // Follow term changes until we lead, for at most five seconds.
  absl::StatusOr<atomix::Channel<atomix::Term>> terms = election->Watch();
  if (!terms.ok()) {
    std::cerr << "watch: " << terms.status() << "\n";
    return 1;
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (term->leader != election->ID() && std::chrono::steady_clock::now() < give_up) {
    if (std::optional<atomix::Term> next = terms->Receive(std::chrono::milliseconds(250))) {
      term = *next;
    }
  }
  terms->Close();
  if (term->leader == election->ID()) {
    // The term number rises with every change of leader: use it as a fence.
    std::cout << me << " leads in term " << term->term << "\n";
  } else {
    std::cout << me << " is still waiting behind " << term->leader << "\n";
  }

  // Step down; the next candidate becomes leader in a new term.
  absl::StatusOr<atomix::Term> after = election->Leave();
  if (!after.ok()) {
    std::cerr << "leave: " << after.status() << "\n";
    return 1;
  }
  std::cout << "left; leader is now '" << after->leader << "' in term " << after->term << "\n";
  return 0;
}
