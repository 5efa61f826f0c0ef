// atomix-console-client: acts on a broker through the real SDK, for the
// web console's browser tests (tests/console/test_console.py).
//
//   atomix-console-client ENDPOINT lock NAME HOLD_SECONDS
//   atomix-console-client ENDPOINT elect NAME CANDIDATE_ID HOLD_SECONDS
//   atomix-console-client ENDPOINT map-put NAME KEY VALUE
//
// lock acquires the lock (waiting in its queue while another holds it),
// prints "fence F", holds it HOLD_SECONDS (or until killed) and releases.
// elect enters the election, prints "term T leader ID" and stays a
// candidate as long. map-put writes KEY = VALUE into the map of strings
// NAME, prints "version V" (the write's revision) and exits. Each line is
// flushed at once. Exit status: 0 done, 1 a call failed (on stderr), 2 bad
// arguments.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "atomix/atomix.h"

namespace {

void Say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  return 1;
}

int Lock(const atomix::Client& client, const std::string& name, int hold_seconds) {
  auto lock = atomix::GetLock(client, name);
  if (!lock.ok()) return Fail("lock", lock.status());
  auto fence = lock->Acquire();
  if (!fence.ok()) return Fail("acquire", fence.status());
  Say("fence " + std::to_string(fence->version));
  std::this_thread::sleep_for(std::chrono::seconds(hold_seconds));
  if (absl::Status released = lock->Release(); !released.ok()) {
    return Fail("release", released);
  }
  return 0;
}

int Elect(const atomix::Client& client, const std::string& name, const std::string& id,
          int hold_seconds) {
  auto election = atomix::GetElection(client, name, atomix::WithCandidateID(id));
  if (!election.ok()) return Fail("election", election.status());
  auto term = election->Enter();
  if (!term.ok()) return Fail("enter", term.status());
  Say("term " + std::to_string(term->term) + " leader " + term->leader);
  std::this_thread::sleep_for(std::chrono::seconds(hold_seconds));
  return 0;
}

int MapPut(const atomix::Client& client, const std::string& name, const std::string& key,
           const std::string& value) {
  auto map = atomix::GetMap<std::string, std::string>(client, name);
  if (!map.ok()) return Fail("map", map.status());
  auto version = map->Put(key, value);
  if (!version.ok()) return Fail("put", version.status());
  Say("version " + std::to_string(*version));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s ENDPOINT lock NAME HOLD_SECONDS | elect NAME ID HOLD_SECONDS | "
                 "map-put NAME KEY VALUE\n",
                 argv[0]);
    return 2;
  }
  const std::string mode = argv[2];
  const int args = argc - 3;
  if (!((mode == "lock" && args == 2) || (mode == "elect" && args == 3) ||
        (mode == "map-put" && args == 3))) {
    std::fprintf(stderr, "%s: bad arguments for %s\n", argv[0], mode.c_str());
    return 2;
  }
  atomix::ClientOptions options;
  options.endpoints = {argv[1]};
  options.connect_timeout = std::chrono::seconds(10);
  auto client = atomix::Client::Connect(options);
  if (!client.ok()) return Fail("connect", client.status());
  if (mode == "lock") return Lock(*client, argv[3], std::atoi(argv[4]));
  if (mode == "elect") return Elect(*client, argv[3], argv[4], std::atoi(argv[5]));
  return MapPut(*client, argv[3], argv[4], argv[5]);
}
