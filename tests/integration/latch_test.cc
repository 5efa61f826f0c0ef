// CountDownLatch against the real broker: every operation with exact
// revisions and codes, Await's deadline and cancellation, the watch (replay
// and resume), an awaiter in a SIGKILLed process withdrawn after its session
// TTL and never before, and the latch's safety rule across processes with a
// count-downer SIGKILLed mid-run (tests/support/rendezvous_checker.h).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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

constexpr char kChildVariable[] = "ATOMIX_LATCH_CHILD";
constexpr int64_t kChildTtlMs = 2000;
// A killed client's session cannot end before its last keepalive (sent at
// most TTL / 3 before the kill) plus the TTL.
constexpr int64_t kNotBeforeMs = kChildTtlMs * 2 / 3;

CountDownLatch OpenLatch(const Client& client, const std::string& name) {
  auto latch = GetCountDownLatch(client, name);
  EXPECT_TRUE(latch.ok()) << latch.status();
  return *std::move(latch);
}

// ---- The child process ----------------------------------------------------------

// Runs only as a child: ATOMIX_LATCH_CHILD = "endpoint;mode;name;count".
// "await": prints "session ID", then awaits the latch for a minute.
// "countdown": `count` count-downs, each printed as "send T" before it is
// sent and "cd SENT ANSWERED COUNT" once answered, 3 ms apart.
TEST(LatchChild, DISABLED_Run) {
  const char* spec = std::getenv(kChildVariable);
  if (spec == nullptr) GTEST_SKIP() << "runs as a child of the latch tests";
  std::vector<std::string> parts = absl::StrSplit(spec, ';');
  ASSERT_EQ(parts.size(), 4u) << spec;
  ClientOptions options;
  options.endpoints = {parts[0]};
  options.connect_timeout = seconds(10);
  options.default_call_timeout = seconds(10);
  options.session_ttl = milliseconds(kChildTtlMs);
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  CountDownLatch latch = OpenLatch(*client, parts[2]);
  if (parts[1] == "await") {
    std::printf("session %llu\n", static_cast<unsigned long long>(client->session_id()));
    std::fflush(stdout);
    auto opened = latch.Await(WithTimeout(seconds(60)));
    std::printf("awaited %s\n", opened.status().ToString().c_str());
    return;
  }
  const int count = std::atoi(parts[3].c_str());
  for (int i = 0; i < count; ++i) {
    const int64_t sent = NowNanos();
    std::printf("send %lld\n", static_cast<long long>(sent));
    std::fflush(stdout);
    auto after = latch.CountDown();
    ASSERT_TRUE(after.ok()) << after.status();
    std::printf("cd %lld %lld %lld\n", static_cast<long long>(sent),
                static_cast<long long>(NowNanos()), static_cast<long long>(*after));
    std::fflush(stdout);
    std::this_thread::sleep_for(milliseconds(3));
  }
}

pid_t SpawnChild(const BrokerProcess& broker, const std::string& mode, const std::string& name,
                 int count, const std::string& log) {
  auto pid = SpawnTestChild(
      {absl::StrCat(kChildVariable, "=", broker.endpoint(), ";", mode, ";", name, ";", count)},
      "LatchChild.DISABLED_Run", log);
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

// The count-downs of a child's log: answered ones, and one unanswered for
// a "send" line without its "cd" line.
void ReadCountDowns(const std::string& log, const std::string& who, LatchChecker& checker,
                    int* answered) {
  std::istringstream in(ReadFile(log));
  int64_t pending = 0;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f[0] == "send" && f.size() == 2) {
      ASSERT_TRUE(absl::SimpleAtoi(f[1], &pending)) << line;
    } else if (f[0] == "cd" && f.size() == 4) {
      LatchChecker::CountDown c{.who = who};
      ASSERT_TRUE(absl::SimpleAtoi(f[1], &c.sent_ns) && absl::SimpleAtoi(f[2], &c.answered_ns) &&
                  absl::SimpleAtoi(f[3], &c.count_after))
          << line;
      checker.AddCountDown(c);
      ++*answered;
      pending = 0;
    }
  }
  if (pending != 0) checker.AddCountDown({.who = who + " (killed)", .sent_ns = pending});
}

class LatchE2E : public BrokerTest {};

TEST_F(LatchE2E, EveryOperationWithExactRevisionsAndCodes) {
  CountDownLatch latch = OpenLatch(client(), "go");
  auto watch = latch.Watch(WatchOptions().Replay());
  ASSERT_TRUE(watch.ok()) << watch.status();
  auto first = watch->Receive(seconds(10));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->type, EventType::kInserted);
  EXPECT_EQ(first->count, 0);
  EXPECT_EQ(first->generation, 0);
  const Version start = first->revision;

  auto count = latch.GetCount();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 0);
  auto set = latch.TrySetCount(2);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(*set);
  set = latch.TrySetCount(9);
  ASSERT_TRUE(set.ok());
  EXPECT_FALSE(*set);
  auto armed = watch->Receive(seconds(10));
  ASSERT_TRUE(armed.has_value());
  EXPECT_EQ(*armed, (LatchEvent{EventType::kInserted, start + 1, 2, 1}));

  auto waiter = std::async(std::launch::async, [&] { return latch.Await(); });
  ASSERT_TRUE(
      WaitUntil([&] { return latch.GetInfo().value_or(LatchInfo{}).waiters == 1; }, seconds(10)));
  count = latch.CountDown();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);
  EXPECT_EQ(waiter.wait_for(milliseconds(100)), std::future_status::timeout);
  count = latch.CountDown();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 0);
  auto opened = waiter.get();
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, (LatchOpened{1, start + 3}));
  EXPECT_EQ(*watch->Receive(seconds(10)), (LatchEvent{EventType::kUpdated, start + 2, 1, 1}));
  EXPECT_EQ(*watch->Receive(seconds(10)), (LatchEvent{EventType::kUpdated, start + 3, 0, 1}));
  count = latch.CountDown();  // at zero: no change, no event
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 0);
  auto now = latch.Await();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->generation, 1);

  // A watch resumed from a revision replays what followed it.
  auto resumed = latch.Watch(WatchOptions().StartVersion(start + 2));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(*resumed->Receive(seconds(10)), (LatchEvent{EventType::kUpdated, start + 2, 1, 1}));
  EXPECT_EQ(*resumed->Receive(seconds(10)), (LatchEvent{EventType::kUpdated, start + 3, 0, 1}));

  // Errors.
  auto bad = latch.TrySetCount(0);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "latch try_set_count: count is 0; it must be 1 .. 2147483648");
  ASSERT_TRUE(GetCounter(client(), "jobs").ok());
  EXPECT_EQ(GetCountDownLatch(client(), "jobs").status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto map = GetMap<std::string, std::string>(client(), "m");
  ASSERT_TRUE(map.ok());
  auto fenced = map->Put("k", "v", WriteOptions().IfFence("go", start + 1));
  EXPECT_EQ(fenced.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fenced.status().message(), "fence names \"go\", a latch, which grants no fences");
}

TEST_F(LatchE2E, AwaitHonoursItsDeadlineAndCancellation) {
  CountDownLatch latch = OpenLatch(client(), "go");
  ASSERT_TRUE(latch.TrySetCount(1).ok());
  auto late = latch.Await(WithTimeout(milliseconds(200)));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded) << late.status();
  EXPECT_TRUE(WaitUntil(
      [&] {
        return latch.GetInfo().value_or(LatchInfo{1, 1, 1}).waiters == 0;
      },
      seconds(10)));

  std::stop_source stop;
  auto cancelled =
      std::async(std::launch::async, [&] { return latch.Await(WithCancel(stop.get_token())); });
  ASSERT_TRUE(
      WaitUntil([&] { return latch.GetInfo().value_or(LatchInfo{}).waiters == 1; }, seconds(10)));
  stop.request_stop();
  ASSERT_EQ(cancelled.wait_for(seconds(10)), std::future_status::ready);
  EXPECT_EQ(cancelled.get().status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return latch.GetInfo().value_or(LatchInfo{1, 1, 1}).waiters == 0;
      },
      seconds(10)));
  auto count = latch.GetCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);  // nothing else changed
}

TEST_F(LatchE2E, AKilledAwaiterIsWithdrawnAfterItsTtlAndNeverBefore) {
  const std::string dir = MakeTempDir("latch-kill");
  CountDownLatch latch = OpenLatch(client(), "gate");
  ASSERT_TRUE(latch.TrySetCount(1).ok());
  const std::string log = dir + "/awaiter.log";
  const pid_t child = SpawnChild(broker(), "await", "gate", 0, log);
  ASSERT_GT(child, 0);
  ASSERT_TRUE(
      WaitUntil([&] { return latch.GetInfo().value_or(LatchInfo{}).waiters == 1; }, seconds(30)))
      << ReadFile(log);
  const int64_t killed = NowNanos();
  KillAndReap(child, SIGKILL);

  // Poll: every answer that arrived before the lower bound still shows the
  // waiter; it is gone a little after the TTL.
  int64_t gone_at = 0;
  int held_polls = 0;
  while (NowNanos() - killed < int64_t{15'000'000'000}) {
    auto info = latch.GetInfo();
    ASSERT_TRUE(info.ok()) << info.status();
    const int64_t answered = NowNanos();
    if (info->waiters == 0) {
      gone_at = answered;
      break;
    }
    if (answered - killed < kNotBeforeMs * 1'000'000) ++held_polls;
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_NE(gone_at, 0) << "the killed awaiter was never withdrawn";
  EXPECT_GE(gone_at - killed, kNotBeforeMs * 1'000'000) << "withdrawn before its session TTL";
  EXPECT_GT(held_polls, 0);
  auto count = latch.GetCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);  // a withdrawn await changes nothing
  std::printf("awaiter withdrawn %.2f s after the kill (TTL %.1f s), %d polls before\n",
              (gone_at - killed) / 1e9, kChildTtlMs / 1e3, held_polls);
  std::filesystem::remove_all(dir);
}

class LatchSafety : public BrokerTest {};

TEST_F(LatchSafety, NoAwaitReturnsEarlyAndNoCountDownIsLostOrDoubled) {
  constexpr int64_t kCount = 80;
  constexpr int kSteadyChildren = 2;
  constexpr int kPerChild = 25;
  constexpr int kAwaiters = 4;
  const std::string dir = MakeTempDir("latch-safety");
  CountDownLatch latch = OpenLatch(client(), "safety");
  auto watch = latch.Watch(WatchOptions().Replay());
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE(latch.TrySetCount(kCount).ok());

  LatchChecker checker(kCount);
  std::mutex mu;
  std::vector<std::thread> awaiters;
  for (int i = 0; i < kAwaiters; ++i) {
    awaiters.emplace_back([&, i] {
      auto opened = latch.Await(WithTimeout(seconds(60)));
      const int64_t returned = NowNanos();
      ASSERT_TRUE(opened.ok()) << opened.status();
      EXPECT_EQ(opened->generation, 1);
      std::lock_guard<std::mutex> l(mu);
      checker.AddAwait({absl::StrCat("awaiter ", i), returned});
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return latch.GetInfo().value_or(LatchInfo{}).waiters == kAwaiters; },
                        seconds(10)));

  std::vector<std::string> logs;
  std::vector<pid_t> children;
  for (int c = 0; c <= kSteadyChildren; ++c) {
    logs.push_back(absl::StrCat(dir, "/child-", c, ".log"));
    children.push_back(SpawnChild(broker(), "countdown", "safety", kPerChild, logs.back()));
    ASSERT_GT(children.back(), 0);
  }
  // The last child is killed after its fifth answered count-down, likely
  // with one in flight.
  const std::string& victim = logs.back();
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string text = ReadFile(victim);
        size_t n = 0;
        for (size_t at = text.find("\ncd "); at != std::string::npos;
             at = text.find("\ncd ", at + 1))
          ++n;
        return n >= 4;
      },
      seconds(30)))
      << ReadFile(victim);
  KillAndReap(children.back(), SIGKILL);
  for (int c = 0; c < kSteadyChildren; ++c) {
    ASSERT_EQ(WaitChild(children[c]), 0) << ReadFile(logs[c]);
  }

  int answered = 0;
  for (size_t c = 0; c < logs.size(); ++c) {
    ReadCountDowns(logs[c], absl::StrCat("child ", c), checker, &answered);
  }
  // The parent counts down the rest itself, one at a time, until zero.
  for (;;) {
    auto now = latch.GetCount();
    ASSERT_TRUE(now.ok()) << now.status();
    if (*now == 0) break;
    const int64_t sent = NowNanos();
    auto after = latch.CountDown();
    ASSERT_TRUE(after.ok()) << after.status();
    checker.AddCountDown({"parent", sent, NowNanos(), *after});
    ++answered;
  }
  for (auto& t : awaiters) t.join();
  auto final_count = latch.GetCount();
  ASSERT_TRUE(final_count.ok());
  EXPECT_EQ(*final_count, 0);
  EXPECT_EQ(checker.Check(*final_count), std::nullopt);

  // The broker's own account: one event per count, down by one each time.
  int64_t expected = kCount;
  int events = 0;
  while (expected > 0) {
    auto e = watch->Receive(seconds(10));
    ASSERT_TRUE(e.has_value()) << "missing the event for count " << expected - 1;
    if (e->type != EventType::kUpdated) continue;
    EXPECT_EQ(e->count, expected - 1);
    expected = e->count;
    ++events;
  }
  EXPECT_EQ(events, kCount);
  std::printf("%zu count-downs (%d answered) from 3 processes and the parent, %zu awaits checked\n",
              checker.count_downs(), answered, checker.awaits());

  // The same history with one await planted before the last count-down was
  // sent must be rejected.
  LatchChecker planted = checker;
  planted.AddAwait({"planted", 1});
  EXPECT_NE(planted.Check(*final_count), std::nullopt);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace atomix::testing
