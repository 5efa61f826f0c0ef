// Barrier against the real broker: every operation with exact revisions and
// codes, Await's deadline and cancellation, the watch (replay and resume), a
// party in a SIGKILLed process breaking the barrier after its session TTL
// and never before, and the barrier's safety rule over many generations
// across processes with a party SIGKILLed mid-run
// (tests/support/rendezvous_checker.h).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "atomix/atomix.h"
#include "tests/support/process.h"
#include "tests/support/rendezvous_checker.h"
#include "tests/support/test_client.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kChildVariable[] = "ATOMIX_BARRIER_CHILD";
constexpr int64_t kChildTtlMs = 2000;
// A killed client's session cannot end before its last keepalive (sent at
// most TTL / 3 before the kill) plus the TTL.
constexpr int64_t kNotBeforeNs = kChildTtlMs * 2 / 3 * 1'000'000;

Barrier OpenBarrier(const Client& client, const std::string& name, int64_t parties) {
  auto barrier = GetBarrier(client, name, parties);
  EXPECT_TRUE(barrier.ok()) << barrier.status();
  return *std::move(barrier);
}

int64_t WaitingOf(const Barrier& barrier) { return barrier.Waiting().value_or(-1); }

// ---- The child process ----------------------------------------------------------

// Runs only as a child: ATOMIX_BARRIER_CHILD = "endpoint;name;parties;rounds;pause file".
// Prints "session ID", passes the barrier `rounds` times (each pass printed
// as "pass GENERATION ARRIVAL SENT ANSWERED"), then, if a pause file is
// given, waits for it and passes `rounds` more times; rounds = 0: one Await
// that is never expected to pass ("send T" first).
TEST(BarrierChild, DISABLED_Run) {
  const char* spec = std::getenv(kChildVariable);
  if (spec == nullptr) GTEST_SKIP() << "runs as a child of the barrier tests";
  std::vector<std::string> parts = absl::StrSplit(spec, ';');
  ASSERT_EQ(parts.size(), 5u) << spec;
  ClientOptions options;
  options.endpoints = {parts[0]};
  options.connect_timeout = seconds(10);
  options.default_call_timeout = seconds(30);
  options.session_ttl = milliseconds(kChildTtlMs);
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  Barrier barrier = OpenBarrier(*client, parts[1], std::stoll(parts[2]));
  std::printf("session %llu\n", static_cast<unsigned long long>(client->session_id()));
  std::fflush(stdout);
  const int rounds = std::stoi(parts[3]);
  auto pass = [&] {
    const int64_t sent = NowNanos();
    std::printf("send %lld\n", static_cast<long long>(sent));
    std::fflush(stdout);
    auto passed = barrier.Await();
    ASSERT_TRUE(passed.ok()) << passed.status();
    std::printf("pass %lld %lld %lld %lld\n", static_cast<long long>(passed->generation),
                static_cast<long long>(passed->arrival), static_cast<long long>(sent),
                static_cast<long long>(NowNanos()));
    std::fflush(stdout);
  };
  if (rounds == 0) {
    pass();
    return;
  }
  for (int i = 0; i < rounds; ++i) pass();
  if (parts[4].empty()) return;
  std::printf("paused\n");
  std::fflush(stdout);
  ASSERT_TRUE(WaitUntil([&] { return access(parts[4].c_str(), F_OK) == 0; }, seconds(60)));
  for (int i = 0; i < rounds; ++i) pass();
}

pid_t SpawnChild(const BrokerProcess& broker, const std::string& name, int64_t parties, int rounds,
                 const std::string& pause, const std::string& log) {
  auto pid = SpawnTestChild({absl::StrCat(kChildVariable, "=", broker.endpoint(), ";", name, ";",
                                          parties, ";", rounds, ";", pause)},
                            "BarrierChild.DISABLED_Run", log);
  EXPECT_TRUE(pid.ok()) << pid.status();
  return pid.ok() ? *pid : -1;
}

int WaitChild(pid_t pid) {
  int status = 0;
  if (!WaitUntil([&] { return waitpid(pid, &status, WNOHANG) == pid; }, seconds(60))) {
    return ExitCode(KillAndReap(pid, SIGKILL));
  }
  return ExitCode(status);
}

uint64_t SessionOf(const std::string& log) {
  std::istringstream in(ReadFile(log));
  for (std::string line; std::getline(in, line);) {
    uint64_t id = 0;
    if (line.rfind("session ", 0) == 0 && absl::SimpleAtoi(line.substr(8), &id)) return id;
  }
  return 0;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

void ReadPasses(const std::string& log, const std::string& who, BarrierChecker& checker) {
  std::istringstream in(ReadFile(log));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f[0] != "pass") continue;
    ASSERT_EQ(f.size(), 5u) << line;
    BarrierChecker::Pass p{.who = who};
    ASSERT_TRUE(absl::SimpleAtoi(f[1], &p.generation) && absl::SimpleAtoi(f[2], &p.arrival) &&
                absl::SimpleAtoi(f[3], &p.sent_ns) && absl::SimpleAtoi(f[4], &p.answered_ns))
        << line;
    checker.Add(p);
  }
}

class BarrierE2E : public BrokerTest {};

TEST_F(BarrierE2E, EveryOperationWithExactRevisionsAndCodes) {
  Barrier barrier = OpenBarrier(client(), "b", 2);
  auto watch = barrier.Watch(WatchOptions().Replay());
  ASSERT_TRUE(watch.ok()) << watch.status();
  auto first = watch->Receive(seconds(10));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->type, EventType::kInserted);
  EXPECT_EQ(first->parties, 2);
  EXPECT_EQ(first->waiting, 0);
  const Version start = first->revision;  // Init's revision
  EXPECT_EQ(barrier.Parties().value_or(0), 2);
  EXPECT_EQ(barrier.Generation().value_or(-1), 0);

  auto one = std::async(std::launch::async, [&] { return barrier.Await(); });
  ASSERT_TRUE(WaitUntil([&] { return WaitingOf(barrier) == 1; }, seconds(10)));
  auto two = barrier.Await();
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(*two, (BarrierPassed{0, 1, start + 2}));
  auto passed = one.get();
  ASSERT_TRUE(passed.ok()) << passed.status();
  EXPECT_EQ(*passed, (BarrierPassed{0, 0, start + 2}));
  EXPECT_EQ(*watch->Receive(seconds(10)),
            (BarrierEvent{EventType::kUpdated, start + 1, 0, 2, 1, false, 0}));
  EXPECT_EQ(*watch->Receive(seconds(10)),
            (BarrierEvent{EventType::kUpdated, start + 2, 1, 2, 0, true, 0}));
  EXPECT_EQ(barrier.Generation().value_or(-1), 1);

  auto resumed = barrier.Watch(WatchOptions().StartVersion(start + 2));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(*resumed->Receive(seconds(10)),
            (BarrierEvent{EventType::kUpdated, start + 2, 1, 2, 0, true, 0}));

  // Errors.
  auto other = GetBarrier(client(), "b", 3);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.status().message(), "barrier \"b\" has 2 parties, not 3");
  EXPECT_EQ(CurrentVersion(other.status()), 2);
  EXPECT_EQ(GetBarrier(client(), "c", 0).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(GetCounter(client(), "jobs").ok());
  EXPECT_EQ(GetBarrier(client(), "jobs", 2).status().code(), absl::StatusCode::kFailedPrecondition);
  auto map = GetMap<std::string, std::string>(client(), "m");
  ASSERT_TRUE(map.ok());
  auto fenced = map->Put("k", "v", WriteOptions().IfFence("b", start));
  EXPECT_EQ(fenced.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fenced.status().message(), "fence names \"b\", a barrier, which grants no fences");
}

TEST_F(BarrierE2E, AwaitHonoursItsDeadlineAndCancellation) {
  Barrier barrier = OpenBarrier(client(), "b", 2);
  auto late = barrier.Await(WithTimeout(milliseconds(200)));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded) << late.status();
  EXPECT_TRUE(WaitUntil([&] { return WaitingOf(barrier) == 0; }, seconds(10)));

  std::stop_source stop;
  auto cancelled =
      std::async(std::launch::async, [&] { return barrier.Await(WithCancel(stop.get_token())); });
  ASSERT_TRUE(WaitUntil([&] { return WaitingOf(barrier) == 1; }, seconds(10)));
  stop.request_stop();
  ASSERT_EQ(cancelled.wait_for(seconds(10)), std::future_status::ready);
  EXPECT_EQ(cancelled.get().status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(WaitUntil([&] { return WaitingOf(barrier) == 0; }, seconds(10)));

  // Neither withdrawn party counts: two fresh arrivals pass generation 0.
  auto one = std::async(std::launch::async, [&] { return barrier.Await(); });
  ASSERT_TRUE(WaitUntil([&] { return WaitingOf(barrier) == 1; }, seconds(10)));
  auto two = barrier.Await();
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->generation, 0);
  EXPECT_EQ(two->arrival, 1);
  ASSERT_TRUE(one.get().ok());
}

TEST_F(BarrierE2E, AKilledPartyBreaksTheBarrierAfterItsTtlAndNeverBefore) {
  const std::string dir = MakeTempDir("barrier-kill");
  Barrier barrier = OpenBarrier(client(), "b", 3);
  auto watch = barrier.Watch();
  ASSERT_TRUE(watch.ok()) << watch.status();
  const std::string log = dir + "/party.log";
  const pid_t child = SpawnChild(broker(), "b", 3, 0, "", log);
  ASSERT_GT(child, 0);
  ASSERT_TRUE(WaitUntil([&] { return WaitingOf(barrier) == 1; }, seconds(30))) << ReadFile(log);
  const uint64_t dead = SessionOf(log);
  ASSERT_NE(dead, 0u) << ReadFile(log);
  auto mine = std::async(std::launch::async, [&] {
    auto r = barrier.Await(WithTimeout(seconds(20)));
    return std::make_pair(r.status(), NowNanos());
  });
  ASSERT_TRUE(WaitUntil([&] { return WaitingOf(barrier) == 2; }, seconds(10)));
  const int64_t killed = NowNanos();
  KillAndReap(child, SIGKILL);

  // Until the lower bound, the killed party still counts.
  int held_polls = 0;
  while (NowNanos() - killed < kNotBeforeNs - 100'000'000) {
    const int64_t waiting = WaitingOf(barrier);
    if (NowNanos() - killed < kNotBeforeNs) {
      EXPECT_EQ(waiting, 2) << "broken " << (NowNanos() - killed) / 1e9 << " s after the kill";
      ++held_polls;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_EQ(mine.wait_for(seconds(15)), std::future_status::ready);
  auto [status, answered] = mine.get();
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted) << status;
  EXPECT_EQ(status.message(),
            absl::StrCat("barrier \"b\" broke: session ", dead, " ended while waiting"));
  EXPECT_GE(answered - killed, kNotBeforeNs) << "broken before the session TTL";
  EXPECT_GT(held_polls, 0);
  // The broker's account: the arrivals, then the break by that session.
  std::optional<BarrierEvent> broke;
  while (auto e = watch->Receive(seconds(10))) {
    if (e->broken_by != 0) {
      broke = e;
      break;
    }
  }
  ASSERT_TRUE(broke.has_value());
  EXPECT_EQ(broke->broken_by, dead);
  EXPECT_EQ(broke->waiting, 0);
  EXPECT_EQ(broke->generation, 0);
  std::printf("broken %.2f s after the kill (TTL %.1f s), %d polls held before\n",
              (answered - killed) / 1e9, kChildTtlMs / 1e3, held_polls);

  // It works again: three fresh parties pass generation 0.
  std::vector<std::future<absl::StatusOr<BarrierPassed>>> parties;
  for (int i = 0; i < 3; ++i) {
    parties.push_back(std::async(std::launch::async, [&] { return barrier.Await(); }));
  }
  for (auto& p : parties) {
    auto r = p.get();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->generation, 0);
  }
  std::filesystem::remove_all(dir);
}

class BarrierSafety : public BrokerTest {};

// Three parties: two steady children and a victim pass 15 generations;
// the victim arrives once more alone and is SIGKILLed (its session's end
// breaks the barrier after the TTL); then the steady children pass 15 more
// generations with a replacement party in this process.
TEST_F(BarrierSafety, NoPartyLeavesAGenerationBeforeAllArrived) {
  constexpr int64_t kParties = 3;
  constexpr int kRounds = 15;
  const std::string dir = MakeTempDir("barrier-safety");
  const std::string go = dir + "/go";
  Barrier barrier = OpenBarrier(client(), "safety", kParties);
  auto watch = barrier.Watch(WatchOptions().Replay());
  ASSERT_TRUE(watch.ok()) << watch.status();

  std::vector<std::string> logs;
  std::vector<pid_t> children;
  for (int c = 0; c < 3; ++c) {
    logs.push_back(absl::StrCat(dir, "/party-", c, ".log"));
    // The victim (2) pauses without a file: it exits after its rounds, so
    // it is started again below for its last, lonely arrival.
    children.push_back(
        SpawnChild(broker(), "safety", kParties, kRounds, c < 2 ? go : "", logs.back()));
    ASSERT_GT(children.back(), 0);
  }
  ASSERT_EQ(WaitChild(children[2]), 0) << ReadFile(logs[2]);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Count(ReadFile(logs[0]), "paused") == 1 && Count(ReadFile(logs[1]), "paused") == 1;
      },
      seconds(60)))
      << ReadFile(logs[0]) << ReadFile(logs[1]);

  // The victim's last arrival waits alone; SIGKILL it.
  const std::string victim_log = dir + "/victim.log";
  const pid_t victim = SpawnChild(broker(), "safety", kParties, 0, "", victim_log);
  ASSERT_TRUE(WaitUntil([&] { return WaitingOf(barrier) == 1; }, seconds(30)))
      << ReadFile(victim_log);
  const uint64_t dead = SessionOf(victim_log);
  const int64_t killed = NowNanos();
  KillAndReap(victim, SIGKILL);
  int64_t broken_at = 0;
  while (NowNanos() - killed < int64_t{15'000'000'000}) {
    const int64_t waiting = WaitingOf(barrier);
    const int64_t now = NowNanos();
    if (waiting == 0) {
      broken_at = now;
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_NE(broken_at, 0);
  EXPECT_GE(broken_at - killed, kNotBeforeNs);

  // The steady parties go on, with a replacement here.
  std::ofstream(go).put('\n');
  BarrierChecker checker(kParties);
  std::stop_source done;
  std::thread replacement([&] {
    while (!done.stop_requested()) {
      const int64_t sent = NowNanos();
      auto passed = barrier.Await(WithCancel(done.get_token()));
      if (!passed.ok()) {
        EXPECT_EQ(passed.status().code(), absl::StatusCode::kCancelled) << passed.status();
        return;
      }
      checker.Add({"replacement", passed->generation, passed->arrival, sent, NowNanos()});
    }
  });
  for (int c = 0; c < 2; ++c) ASSERT_EQ(WaitChild(children[c]), 0) << ReadFile(logs[c]);
  done.request_stop();
  replacement.join();
  for (int c = 0; c < 3; ++c) ReadPasses(logs[c], absl::StrCat("party ", c), checker);
  EXPECT_EQ(checker.size(), size_t{kParties * kRounds * 2});
  EXPECT_EQ(checker.generations(), size_t{kRounds * 2});
  EXPECT_EQ(checker.Check(), std::nullopt);

  // The broker's account: 30 trips and one break by the victim's session.
  int trips = 0;
  uint64_t broken_by = 0;
  while (trips < kRounds * 2) {
    auto e = watch->Receive(seconds(10));
    ASSERT_TRUE(e.has_value()) << trips << " trips seen";
    if (e->tripped) ++trips;
    if (e->broken_by != 0) broken_by = e->broken_by;
  }
  EXPECT_EQ(broken_by, dead);
  std::printf(
      "%zu passes in %zu generations checked across 3 processes and a replacement; "
      "break %.2f s after the kill\n",
      checker.size(), checker.generations(), (broken_at - killed) / 1e9);

  // The same history with one party moved to leave before the last arrival
  // of its generation must be rejected.
  BarrierChecker planted(kParties);
  for (int c = 0; c < 3; ++c) ReadPasses(logs[c], absl::StrCat("party ", c), planted);
  planted.Add({"planted", kRounds * 2, 0, 10, 20});
  planted.Add({"planted", kRounds * 2, 1, 30, 40});
  planted.Add({"planted", kRounds * 2, 2, 50, 60});
  EXPECT_NE(planted.Check(), std::nullopt);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace atomix::testing
