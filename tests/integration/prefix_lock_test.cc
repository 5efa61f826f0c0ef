// Map prefix locks against the real broker: every operation with exact
// fences and codes, a blocking LockPrefix's deadline and cancellation, a
// SIGKILLed holder whose prefix stays locked until its session TTL and
// never less, and a safety run: holders of a parent and a child prefix in
// several processes (one SIGKILLed while holding), checked never to overlap
// (HoldChecker, all holds exclusive on the parent), and writers in another
// process, with and without fences, checked against the grant history
// through the map's own watch events. Both checkers are shown catching
// planted violations.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/hold_checker.h"
#include "tests/support/process.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using StrMap = Map<std::string, std::string>;

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// ---- The write checker -----------------------------------------------------

// A grant as its holder saw it: its prefix and fence, and the revision of
// its last fenced write (the grant held at least until then).
struct Grant {
  std::string prefix;
  int64_t fence = 0;
  int64_t held_until = 0;
};

// A write the broker applied (from the map's watch), by whom.
struct Write {
  std::string key;
  int64_t revision = 0;
  int64_t fence = 0;  // the fence it carried, 0 for none
};

// The first write that landed under a prefix while another's grant held it:
// an unfenced write at a revision inside (fence, held_until) of a grant
// covering its key, or a fenced write after the next overlapping grant. All
// grants given must overlap one another (one parent prefix and its child).
std::optional<std::string> CheckWrites(std::vector<Grant> grants,
                                       const std::vector<Write>& writes) {
  std::ranges::sort(grants, {}, &Grant::fence);
  for (const Write& w : writes) {
    for (size_t i = 0; i < grants.size(); ++i) {
      const Grant& g = grants[i];
      if (!absl::StartsWith(w.key, g.prefix)) continue;
      if (w.fence == 0 && w.revision > g.fence && w.revision < g.held_until) {
        return absl::StrCat("unfenced write of ", w.key, " at revision ", w.revision,
                            " landed under ", g.prefix, " held at fence ", g.fence, " until ",
                            g.held_until);
      }
      if (w.fence == g.fence && i + 1 < grants.size() && w.revision >= grants[i + 1].fence) {
        return absl::StrCat("write of ", w.key, " fenced by ", g.fence, " landed at revision ",
                            w.revision, ", after the next grant at ", grants[i + 1].fence);
      }
    }
  }
  return std::nullopt;
}

TEST(PrefixLockCheckers, CatchPlantedViolations) {
  // Overlapping holds of a parent and its child.
  HoldChecker holds;
  holds.Add({.resource = "r/", .holder = "p1", .start_ns = 10, .end_ns = 20, .exclusive = true});
  holds.Add({.resource = "r/", .holder = "p2", .start_ns = 20, .end_ns = 30, .exclusive = true});
  EXPECT_EQ(holds.Check(), std::nullopt);
  holds.Add({.resource = "r/", .holder = "p3", .start_ns = 25, .end_ns = 26, .exclusive = true});
  EXPECT_NE(holds.Check(), std::nullopt);

  const std::vector<Grant> grants = {{"r/", 10, 14}, {"r/a/", 20, 25}};
  EXPECT_EQ(CheckWrites(grants, {{"r/x", 9, 0},
                                 {"r/x", 15, 0},
                                 {"r/a/w", 19, 0},
                                 {"s/w", 12, 0},
                                 {"r/a/w", 22, 20},
                                 {"r/a/w", 13, 10}}),
            std::nullopt);
  // A non-holder's write inside a grant's window.
  EXPECT_NE(CheckWrites(grants, {{"r/a/w", 12, 0}}), std::nullopt);
  EXPECT_NE(CheckWrites(grants, {{"r/a/w", 21, 0}}), std::nullopt);
  // A write with a fence whose grant had been superseded.
  EXPECT_NE(CheckWrites(grants, {{"r/a/w", 21, 10}}), std::nullopt);
}

// ---- Child processes -------------------------------------------------------

// Lines a child prints, prefixed "PL ", parsed by the parent.
void Emit(const std::string& line) {
  std::printf("PL %s\n", line.c_str());
  std::fflush(stdout);
}

// The child side, by ATOMIX_PL_CHILD:
//   hold:    locks ATOMIX_PL_PREFIX, prints "held FENCE NS", waits to be killed;
//   contend: ATOMIX_PL_N times locks "r/" or "r/a/" (at random), writes two
//            fenced entries under it, unlocks; prints
//            "hold PREFIX FENCE START_NS END_NS CODE1 V1 CODE2 V2";
//   write:   until "s/stop" exists (at most ATOMIX_PL_N times) writes "r/w",
//            "r/a/w" or "s/w" without a fence, and every fourth time with
//            the fence of a listed lock.
TEST(PrefixLockChild, Run) {
  const std::string role = Env("ATOMIX_PL_CHILD");
  if (role.empty()) GTEST_SKIP() << "runs only as a child of PrefixLockE2E";
  ClientOptions options;
  options.endpoints = {Env("ATOMIX_PL_ENDPOINT")};
  options.connect_timeout = seconds(10);
  options.default_call_timeout = seconds(20);
  options.session_ttl = milliseconds(std::atoi(Env("ATOMIX_PL_TTL_MS")));
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto map = GetMap<std::string, std::string>(*client, "pl");
  ASSERT_TRUE(map.ok()) << map.status();
  const int who = std::atoi(Env("ATOMIX_PL_WHO"));
  const int n = std::atoi(Env("ATOMIX_PL_N"));
  std::mt19937 rng(who);
  if (role == "hold") {
    auto guard = map->LockPrefix(Env("ATOMIX_PL_PREFIX"));
    ASSERT_TRUE(guard.ok()) << guard.status();
    Emit(absl::StrCat("held ", guard->fence().version, " ", NowNanos()));
    std::this_thread::sleep_for(seconds(120));  // until SIGKILL
    return;
  }
  if (role == "contend") {
    for (int i = 0; i < n; ++i) {
      const std::string prefix = rng() % 2 == 0 ? "r/" : "r/a/";
      auto guard = map->LockPrefix(prefix);
      ASSERT_TRUE(guard.ok()) << guard.status();
      const int64_t start = NowNanos();
      const std::string value = absl::StrCat("h:", who, ":", guard->fence().version);
      auto v1 = map->Put(prefix + "k", value, IfFence(*guard));
      std::this_thread::sleep_for(milliseconds(1 + rng() % 3));
      auto v2 = map->Put(prefix + "k", value, IfFence(*guard));
      const int64_t end = NowNanos();
      Emit(absl::StrCat("hold ", prefix, " ", guard->fence().version, " ", start, " ", end, " ",
                        static_cast<int>(v1.status().code()), " ", v1.value_or(0), " ",
                        static_cast<int>(v2.status().code()), " ", v2.value_or(0)));
      ASSERT_TRUE(guard->Unlock().ok());
    }
    return;
  }
  ASSERT_EQ(role, "write");
  const std::vector<std::string> keys = {"r/w", "r/a/w", "s/w"};
  for (int i = 0; i < n; ++i) {
    if (i % 16 == 0 && map->Contains("s/stop").value_or(true)) break;
    if (i % 4 == 3) {
      for (const auto& lock : map->PrefixLocks()) {
        if (!lock.ok()) break;
        auto put = map->Put(lock->prefix + "f", absl::StrCat("f:", lock->fence.version),
                            IfFence(map->name(), lock->fence));
        (void)put;  // refused once the grant is gone
        break;
      }
      continue;
    }
    (void)map->Put(keys[rng() % keys.size()], absl::StrCat("w:", who, ":", i));
    std::this_thread::sleep_for(milliseconds(1));
  }
}

// ---- The parent side -------------------------------------------------------

class PrefixLockE2E : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    dir_ = MakeTempDir("prefix-lock");
  }
  void TearDown() override {
    for (pid_t pid : pids_) KillAndReap(pid, SIGKILL);
  }

  pid_t Spawn(const std::string& role, int who, int n, int ttl_ms, const std::string& prefix = "") {
    const std::string log = absl::StrCat(dir_, "/", role, who);
    auto pid =
        SpawnTestChild({absl::StrCat("ATOMIX_PL_CHILD=", role), absl::StrCat("ATOMIX_PL_WHO=", who),
                        absl::StrCat("ATOMIX_PL_N=", n), absl::StrCat("ATOMIX_PL_TTL_MS=", ttl_ms),
                        absl::StrCat("ATOMIX_PL_PREFIX=", prefix),
                        absl::StrCat("ATOMIX_PL_ENDPOINT=", broker().endpoint())},
                       "PrefixLockChild.Run", log);
    EXPECT_TRUE(pid.ok()) << pid.status();
    logs_[pid.ok() ? *pid : -1] = log;
    if (pid.ok()) pids_.push_back(*pid);
    return pid.ok() ? *pid : -1;
  }

  // The "PL" lines of a child's log.
  std::vector<std::vector<std::string>> Lines(pid_t pid) {
    std::vector<std::vector<std::string>> out;
    std::istringstream in(ReadFile(logs_[pid]));
    std::string line;
    while (std::getline(in, line)) {
      if (absl::StartsWith(line, "PL ")) out.push_back(absl::StrSplit(line.substr(3), ' '));
    }
    return out;
  }

  // Waits for the child's "held FENCE NS" line; {fence, ns}.
  std::pair<int64_t, int64_t> AwaitHeld(pid_t pid) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& f : Lines(pid)) {
        int64_t fence = 0, ns = 0;
        if (f.size() == 3 && f[0] == "held" && absl::SimpleAtoi(f[1], &fence) &&
            absl::SimpleAtoi(f[2], &ns)) {
          return {fence, ns};
        }
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    ADD_FAILURE() << "no held line: " << ReadFile(logs_[pid]);
    return {0, 0};
  }

  int Wait(pid_t pid) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pids_.erase(std::ranges::find(pids_, pid));
        return ExitCode(status);
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    return -1;
  }

  void Kill(pid_t pid) {
    KillAndReap(pid, SIGKILL);
    pids_.erase(std::ranges::find(pids_, pid));
  }

  StrMap Map() {
    auto map = GetMap<std::string, std::string>(client(), "pl");
    EXPECT_TRUE(map.ok()) << map.status();
    return *std::move(map);
  }

  std::string dir_;
  std::vector<pid_t> pids_;
  std::map<pid_t, std::string> logs_;
};

TEST_F(PrefixLockE2E, EveryOperationWithExactFencesAndCodes) {
  StrMap map = Map();
  auto other_client = Client::Connect(OptionsFor(broker()));
  ASSERT_TRUE(other_client.ok());
  auto other = GetMap<std::string, std::string>(*other_client, "pl");
  ASSERT_TRUE(other.ok());

  auto guard = map.LockPrefix("jobs/42/");
  ASSERT_TRUE(guard.ok()) << guard.status();
  const Version fence = guard->fence().version;
  auto put = map.Put("jobs/42/state", "running");  // the holder's session
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(*put, fence + 1);

  auto refused = other->Put("jobs/42/state", "stolen");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(refused.status()), fence);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "\"jobs/42/\"")) << refused.status();
  EXPECT_EQ(other->Clear().status().code(), absl::StatusCode::kFailedPrecondition);
  auto fenced = other->Put("jobs/42/state", "done", IfFence(*guard));
  ASSERT_TRUE(fenced.ok()) << fenced.status();
  EXPECT_EQ(*fenced, fence + 2);

  auto try_child = other->TryLockPrefix("jobs/42/a");
  ASSERT_TRUE(try_child.ok());
  EXPECT_FALSE(try_child->has_value());
  auto sibling = other->TryLockPrefix("jobs/43/");
  ASSERT_TRUE(sibling.ok() && sibling->has_value());
  EXPECT_EQ((*sibling)->fence().version, fence + 3);

  std::vector<PrefixLock> listed;
  for (const auto& l : map.PrefixLocks()) {
    ASSERT_TRUE(l.ok()) << l.status();
    listed.push_back(*l);
  }
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].prefix, "jobs/42/");
  EXPECT_EQ(listed[0].fence.version, fence);
  EXPECT_EQ(listed[1].fence.version, fence + 3);
  EXPECT_NE(listed[0].session_id, listed[1].session_id);

  // Deadline: the waiter gives up; nothing is left behind.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(other->LockPrefix("jobs/", WithTimeout(milliseconds(300))).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(250));
  // Cancellation returns CANCELLED.
  std::stop_source stop;
  auto cancelled = std::async(std::launch::async, [&] {
    return other->LockPrefix("jobs/42/", WithCancel(stop.get_token())).status();
  });
  std::this_thread::sleep_for(milliseconds(100));
  stop.request_stop();
  EXPECT_EQ(cancelled.get().code(), absl::StatusCode::kCancelled);

  EXPECT_EQ(other->UnlockPrefix("jobs/42/").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(guard->Unlock().ok());
  EXPECT_EQ(other->Put("jobs/42/state", "late", IfFence(*guard)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Neither the timed-out nor the cancelled request got the prefix.
  auto now_free = map.TryLockPrefix("jobs/");
  ASSERT_TRUE(now_free.ok());
  EXPECT_FALSE(now_free->has_value());  // jobs/43/ is still held
  ASSERT_TRUE((*sibling)->Unlock().ok());
  now_free = map.TryLockPrefix("jobs/");
  ASSERT_TRUE(now_free.ok() && now_free->has_value());
}

constexpr int kTtlMs = 2000;
// A session may end as early as its last keep-alive (every TTL / 3) plus
// the TTL, so a killed holder's lock is released no sooner than this after
// the kill.
constexpr auto kEarliestRelease = milliseconds(kTtlMs * 2 / 3 - 50);

TEST_F(PrefixLockE2E, AKilledHoldersPrefixStaysLockedUntilItsTtl) {
  StrMap map = Map();
  const pid_t holder = Spawn("hold", 0, 0, kTtlMs, "k/");
  const auto [fence, held_ns] = AwaitHeld(holder);
  ASSERT_GT(fence, 0);
  const auto killed = std::chrono::steady_clock::now();  // the kill comes after
  Kill(holder);
  auto waiter = std::async(std::launch::async, [&] {
    auto g = map.LockPrefix("k/", WithTimeout(seconds(20)));
    return std::make_pair(std::move(g), std::chrono::steady_clock::now());
  });
  // Until the earliest the session can end, writes under k/ stay refused.
  int refused = 0;
  while (std::chrono::steady_clock::now() < killed + kEarliestRelease - milliseconds(100)) {
    auto put = map.Put("k/x", "v");
    if (std::chrono::steady_clock::now() >= killed + kEarliestRelease) break;
    EXPECT_EQ(put.status().code(), absl::StatusCode::kFailedPrecondition) << put.status();
    EXPECT_EQ(CurrentVersion(put.status()), fence);
    ++refused;
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_GT(refused, 0);
  auto [granted, at] = waiter.get();
  ASSERT_TRUE(granted.ok()) << granted.status();
  EXPECT_GT(granted->fence().version, fence);
  EXPECT_GE(at - killed, kEarliestRelease);  // never released before the TTL
  EXPECT_TRUE(map.Put("k/x", "mine", IfFence(*granted)).ok());
}

TEST_F(PrefixLockE2E, ParentAndChildHoldersInProcessesNeverOverlapOrLetOthersWrite) {
  StrMap map = Map();
  auto events = map.Watch();
  ASSERT_TRUE(events.ok()) << events.status();
  // A holder of the child prefix, killed mid-run while holding it.
  const pid_t victim = Spawn("hold", 9, 0, kTtlMs, "r/a/");
  const auto [victim_fence, victim_ns] = AwaitHeld(victim);
  constexpr int kContenders = 3, kRounds = 40, kWrites = 20000;
  std::vector<pid_t> contenders;
  for (int c = 0; c < kContenders; ++c) contenders.push_back(Spawn("contend", c, kRounds, 5000));
  // The writer runs until the contenders are done.
  const pid_t writer = Spawn("write", 7, kWrites, 5000);
  std::this_thread::sleep_for(milliseconds(200));
  Kill(victim);
  // Its hold lasts at least until the last time it was seen held.
  int64_t victim_seen_ns = victim_ns;
  for (;;) {
    const int64_t asked = NowNanos();
    bool held = false;
    for (const auto& l : map.PrefixLocks()) {
      if (l.ok() && l->fence.version == victim_fence) held = true;
    }
    if (!held) break;
    victim_seen_ns = asked;
    std::this_thread::sleep_for(milliseconds(20));
  }
  for (pid_t pid : contenders) ASSERT_EQ(Wait(pid), 0) << ReadFile(logs_[pid]);
  ASSERT_TRUE(map.Put("s/stop", "stop").ok());
  ASSERT_EQ(Wait(writer), 0) << ReadFile(logs_[writer]);

  HoldChecker checker;
  std::vector<Grant> grants;
  checker.Add({.resource = "r/",
               .holder = "killed",
               .start_ns = victim_ns,
               .end_ns = victim_seen_ns,
               .exclusive = true,
               .fence = victim_fence});
  for (pid_t pid : contenders) {
    for (const auto& f : Lines(pid)) {
      ASSERT_EQ(f.size(), 9u) << absl::StrJoin(f, " ");
      int64_t fence = 0, start = 0, end = 0, c1 = 0, v1 = 0, c2 = 0, v2 = 0;
      ASSERT_TRUE(absl::SimpleAtoi(f[2], &fence) && absl::SimpleAtoi(f[3], &start) &&
                  absl::SimpleAtoi(f[4], &end) && absl::SimpleAtoi(f[5], &c1) &&
                  absl::SimpleAtoi(f[6], &v1) && absl::SimpleAtoi(f[7], &c2) &&
                  absl::SimpleAtoi(f[8], &v2));
      EXPECT_EQ(c1, 0) << "a holder's fenced write was refused, fence " << fence;
      EXPECT_EQ(c2, 0) << "a holder's fenced write was refused, fence " << fence;
      EXPECT_GT(v1, fence);
      EXPECT_GT(v2, v1);
      EXPECT_GT(fence, victim_fence);  // the child prefix waited for the victim
      checker.Add({.resource = "r/",
                   .holder = absl::StrCat("pid ", pid),
                   .start_ns = start,
                   .end_ns = end,
                   .exclusive = true,
                   .fence = fence});
      grants.push_back({f[1], fence, v2});
    }
  }
  ASSERT_EQ(checker.size(), static_cast<size_t>(kContenders * kRounds + 1));
  EXPECT_EQ(checker.Check(), std::nullopt);

  // The broker's own account of what was written, through the end marker.
  auto end = map.Put("s/end", "end");
  ASSERT_TRUE(end.ok());
  std::vector<Write> writes;
  int unfenced = 0, fenced = 0;
  for (;;) {
    auto e = events->Receive(seconds(10));
    ASSERT_TRUE(e.has_value()) << "the watch ended early";
    if (!e->entry.has_value()) continue;
    if (e->entry->key == "s/end") break;
    const std::string& v = e->entry->value;
    int64_t fence = 0;
    if (absl::StartsWith(v, "f:")) {
      ASSERT_TRUE(absl::SimpleAtoi(v.substr(2), &fence)) << v;
      ++fenced;
    } else if (absl::StartsWith(v, "w:")) {
      ++unfenced;
    } else {
      continue;  // a holder's own write
    }
    writes.push_back({e->entry->key, e->revision, fence});
  }
  EXPECT_EQ(CheckWrites(grants, writes), std::nullopt);
  // Writes that landed while the contenders ran, which the grants check.
  int64_t first = INT64_MAX, last = 0;
  for (const Grant& g : grants) {
    first = std::min(first, g.fence);
    last = std::max(last, g.held_until);
  }
  const auto during = std::ranges::count_if(
      writes, [&](const Write& w) { return w.revision > first && w.revision < last; });
  EXPECT_GT(during, 0);
  std::printf(
      "prefix lock safety: %zu holds checked (max 1 at once), %d other writes landed (%d "
      "unfenced, %d fenced; %d while contended)\n",
      checker.size(), unfenced + fenced, unfenced, fenced, static_cast<int>(during));
}

}  // namespace
}  // namespace atomix::testing
