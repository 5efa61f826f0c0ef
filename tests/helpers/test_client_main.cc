// atomix-test-client: a separate client process for failure tests. It takes
// a lock or enters an election, prints what it got on one line, and then
// holds on until it is killed.
//
//   atomix-test-client ENDPOINT TTL_MS lock NAME
//   atomix-test-client ENDPOINT TTL_MS elect NAME CANDIDATE_ID
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "atomix/atomix.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s ENDPOINT TTL_MS lock NAME | elect NAME ID\n", argv[0]);
    return 2;
  }
  atomix::ClientOptions options;
  options.endpoints = {argv[1]};
  options.session_ttl = std::chrono::milliseconds(std::atoll(argv[2]));
  auto client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", client.status().ToString().c_str());
    return 1;
  }
  const std::string mode = argv[3];
  if (mode == "lock") {
    auto lock = atomix::GetLock(*client, argv[4]);
    if (!lock.ok()) return 1;
    auto fence = lock->Acquire();
    if (!fence.ok()) {
      std::fprintf(stderr, "acquire: %s\n", fence.status().ToString().c_str());
      return 1;
    }
    std::printf("fence %lld\n", static_cast<long long>(fence->version));
  } else if (mode == "elect" && argc >= 6) {
    auto election = atomix::GetElection(*client, argv[4], atomix::WithCandidateID(argv[5]));
    if (!election.ok()) return 1;
    auto term = election->Enter();
    if (!term.ok()) {
      std::fprintf(stderr, "enter: %s\n", term.status().ToString().c_str());
      return 1;
    }
    std::printf("term %lld leader %s\n", static_cast<long long>(term->term), term->leader.c_str());
  } else {
    return 2;
  }
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));
}
