// CounterMap histories must be linearizable: increments, compare-and-sets,
// sets, removes and gets on a few shared keys, recorded against a real
// broker from several threads of this process and from several child
// processes at once, merged and checked key by key against a sequential
// model of one counter.
//
// The children are this test binary run again with a gtest filter that
// selects CounterMapChild.RecordsAHistory, which does nothing unless
// ATOMIX_COUNTER_MAP_CHILD is set. Each child prints its history, one "op"
// line per operation with CLOCK_MONOTONIC times (shared by every process
// of the machine), to its log file; the parent parses and merges them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/linearizability.h"
#include "tests/support/process.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

constexpr char kChildVariable[] = "ATOMIX_COUNTER_MAP_CHILD";
constexpr char kMapName[] = "lin-counter-map";
constexpr int kKeys = 3;

// ---- The model: one key of a counter map ---------------------------------

struct CountState {
  int64_t value = 0;  // 0 while absent
  bool present = false;
  int64_t version = 0;  // of the last write or removal
  bool operator==(const CountState&) const = default;
  template <class H>
  friend H AbslHashValue(H h, const CountState& s) {
    return H::combine(std::move(h), s.value, s.present, s.version);
  }
};

struct CountOp {
  enum Kind { kGet, kSet, kAdd, kCompareAndSet, kRemove };
  int proc = 0;  // 0: the parent
  int key = 0;
  Kind kind = kGet;
  int64_t a = 0;  // Set value, Add delta, CAS expect
  int64_t b = 0;  // CAS update
  int64_t invoke = 0;
  int64_t complete = 0;
  absl::StatusCode code = absl::StatusCode::kOk;
  bool present = false;  // Remove: whether it removed something
  int64_t value = 0;     // returned value; CAS mismatch: the current value
  int64_t version = 0;   // returned version (writes, Remove)
};

std::optional<CountState> CountStep(const CountState& s, const CountOp& op) {
  using absl::StatusCode;
  auto written = [&](int64_t value) -> std::optional<CountState> {
    if (op.code != StatusCode::kOk || op.value != value || op.version <= s.version) {
      return std::nullopt;
    }
    return CountState{value, true, op.version};
  };
  switch (op.kind) {
    case CountOp::kGet:
      if (op.code == StatusCode::kOk && op.value == s.value) return s;
      return std::nullopt;
    case CountOp::kSet:
      return written(op.a);
    case CountOp::kAdd:
      return written(s.value + op.a);
    case CountOp::kCompareAndSet:
      if (s.value == op.a) return written(op.b);
      if (op.code == StatusCode::kFailedPrecondition && op.value == s.value) return s;
      return std::nullopt;
    case CountOp::kRemove:
      if (op.code != StatusCode::kOk) return std::nullopt;
      if (!s.present) return op.present ? std::nullopt : std::optional<CountState>(s);
      if (!op.present || op.value != s.value || op.version <= s.version) return std::nullopt;
      return CountState{0, false, op.version};
  }
  return std::nullopt;
}

bool Linearizable(const std::vector<CountOp>& history) {
  return CheckLinearizable(history, CountState{}, CountStep, absl::Hash<CountState>{});
}

// Checks every key's history; "" if all are linearizable.
std::string CheckPerKey(const std::vector<CountOp>& history) {
  std::map<int, std::vector<CountOp>> by_key;
  for (const CountOp& op : history) by_key[op.key].push_back(op);
  std::string failures;
  for (const auto& [key, ops] : by_key) {
    if (!Linearizable(ops)) {
      absl::StrAppend(&failures, "key ", key, " (", ops.size(), " operations) ");
    }
  }
  return failures;
}

// ---- Recording --------------------------------------------------------------

std::string Format(const CountOp& op) {
  return absl::StrCat("op ", op.proc, " ", op.key, " ", static_cast<int>(op.kind), " ", op.a, " ",
                      op.b, " ", op.invoke, " ", op.complete, " ", static_cast<int>(op.code), " ",
                      op.present ? 1 : 0, " ", op.value, " ", op.version);
}

std::optional<CountOp> Parse(const std::string& line) {
  std::istringstream in(line);
  std::string tag;
  CountOp op;
  int kind = 0, code = 0, present = 0;
  if (!(in >> tag >> op.proc >> op.key >> kind >> op.a >> op.b >> op.invoke >> op.complete >>
        code >> present >> op.value >> op.version) ||
      tag != "op") {
    return std::nullopt;
  }
  op.kind = static_cast<CountOp::Kind>(kind);
  op.code = static_cast<absl::StatusCode>(code);
  op.present = present != 0;
  return op;
}

// One thread's operations: a random mix on kKeys keys, CompareAndSet from the
// value last seen on that key. Fills `error` on an unexpected failure.
std::vector<CountOp> RunThread(const CounterMap<std::string>& map, int proc, uint32_t seed, int ops,
                               std::string& error) {
  std::mt19937 rng(seed);
  std::vector<CountOp> history;
  int64_t last_seen[kKeys] = {};
  for (int i = 0; i < ops && error.empty(); ++i) {
    CountOp op;
    op.proc = proc;
    op.key = static_cast<int>(rng() % kKeys);
    const std::string key = "k" + std::to_string(op.key);
    const int dice = static_cast<int>(rng() % 100);
    absl::Status status;
    op.invoke = NowNanos();
    if (dice < 35 || (dice >= 90 && dice < 95)) {
      op.kind = CountOp::kAdd;
      const int64_t delta = static_cast<int64_t>(rng() % 3) + 1;
      // Decrement is Increment(-delta) to the model.
      auto r = dice < 35 ? map.Increment(key, delta) : map.Decrement(key, delta);
      op.a = dice < 35 ? delta : -delta;
      status = r.status();
      if (r.ok()) {
        op.value = r->value;
        op.version = r->version;
      }
    } else if (dice < 60) {
      op.kind = CountOp::kGet;
      auto r = map.Get(key);
      status = r.status();
      if (r.ok()) op.value = *r;
    } else if (dice < 80) {
      op.kind = CountOp::kCompareAndSet;
      op.a = last_seen[op.key];
      op.b = op.a + 1;
      auto r = map.CompareAndSet(key, op.a, op.b);
      status = r.status();
      if (r.ok()) {
        op.value = r->value;
        op.version = r->version;
      } else if (absl::IsFailedPrecondition(status) && CurrentVersion(status)) {
        op.value = *CurrentVersion(status);
      }
    } else if (dice < 90) {
      op.kind = CountOp::kSet;
      op.a = static_cast<int64_t>(rng() % 50);
      auto r = map.Set(key, op.a);
      status = r.status();
      if (r.ok()) {
        op.value = r->value;
        op.version = r->version;
      }
    } else {
      op.kind = CountOp::kRemove;
      auto r = map.Remove(key);
      status = r.status();
      if (r.ok() && r->has_value()) {
        op.present = true;
        op.value = (*r)->value;
        op.version = (*r)->version;
      }
    }
    op.complete = NowNanos();
    op.code = status.code();
    const bool expected =
        status.ok() || (op.kind == CountOp::kCompareAndSet && absl::IsFailedPrecondition(status) &&
                        CurrentVersion(status).has_value());
    if (!expected) error = absl::StrCat("operation ", i, ": ", status.ToString());
    last_seen[op.key] = op.kind == CountOp::kRemove ? 0 : op.value;
    history.push_back(op);
  }
  return history;
}

// Runs `threads` threads of `ops` operations each on `client`, all at once.
std::vector<CountOp> RunWorkload(const Client& client, int proc, int threads, int ops,
                                 std::string& error) {
  auto map = GetCounterMap<std::string>(client, kMapName);
  if (!map.ok()) {
    error = map.status().ToString();
    return {};
  }
  std::mutex mu;
  std::vector<CountOp> history;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::string mine_error;
      std::vector<CountOp> mine =
          RunThread(*map, proc, static_cast<uint32_t>(1000 * proc + t), ops, mine_error);
      std::lock_guard<std::mutex> l(mu);
      history.insert(history.end(), mine.begin(), mine.end());
      if (error.empty()) error = mine_error;
    });
  }
  for (auto& w : workers) w.join();
  return history;
}

// ---- Children ---------------------------------------------------------------

constexpr int kChildThreads = 4;
constexpr int kOpsPerThread = 150;

// A child's run: connect, say "ready", wait for the parent's go file, run
// the workload and print it. Set up by CounterMapHistory below.
TEST(CounterMapChild, RecordsAHistory) {
  const char* spec = std::getenv(kChildVariable);
  if (spec == nullptr) GTEST_SKIP() << "runs only as a child of CounterMapHistory";
  // "<endpoint> <proc> <dir>"
  std::vector<std::string> parts = absl::StrSplit(spec, ' ');
  ASSERT_EQ(parts.size(), 3u) << spec;
  const int proc = std::stoi(parts[1]);
  ClientOptions options;
  options.endpoints = {parts[0]};
  options.connect_timeout = std::chrono::seconds(10);
  options.default_call_timeout = std::chrono::seconds(10);
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(GetCounterMap<std::string>(*client, kMapName).ok());
  std::printf("ready\n");
  std::fflush(stdout);
  const std::string go = parts[2] + "/go";
  for (int i = 0; i < 60000 && access(go.c_str(), F_OK) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(access(go.c_str(), F_OK), 0) << "the parent never said go";

  std::string error;
  std::vector<CountOp> history = RunWorkload(*client, proc, kChildThreads, kOpsPerThread, error);
  for (const CountOp& op : history) std::printf("%s\n", Format(op).c_str());
  std::fflush(stdout);
  ASSERT_TRUE(error.empty()) << error;
}

// Waits for `pid` to exit, at most `limit`; kills it after that. Returns its
// exit code, or -1 if it had to be killed.
int WaitForExit(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return ExitCode(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  KillAndReap(pid, SIGKILL);
  return -1;
}

// ---- Tests ------------------------------------------------------------------

class CounterMapHistory : public BrokerTest {};

TEST_F(CounterMapHistory, ThreadsGiveALinearizableHistoryPerKey) {
  std::string error;
  std::vector<CountOp> history = RunWorkload(client(), 0, 8, 300, error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(history.size(), 8u * 300u);
  EXPECT_EQ(CheckPerKey(history), "");

  // The same history with one read corrupted must be rejected, which shows
  // the check has teeth on real data.
  for (CountOp& op : history) {
    if (op.kind == CountOp::kGet) {
      op.value += 1000;
      break;
    }
  }
  EXPECT_NE(CheckPerKey(history), "");
}

// Three child processes of four threads each and four threads of this one
// work on the same keys at the same time; the merged history is checked.
TEST_F(CounterMapHistory, ProcessesAndThreadsTogetherGiveALinearizableHistory) {
  constexpr int kProcesses = 3;
  const std::string dir = MakeTempDir("atomix-counter-map-history");
  std::vector<pid_t> children;
  std::vector<std::string> logs;
  for (int p = 1; p <= kProcesses; ++p) {
    logs.push_back(absl::StrCat(dir, "/child-", p, ".log"));
    auto pid =
        SpawnTestChild({absl::StrCat(kChildVariable, "=", broker().endpoint(), " ", p, " ", dir)},
                       "CounterMapChild.RecordsAHistory", logs.back());
    ASSERT_TRUE(pid.ok()) << pid.status();
    children.push_back(*pid);
  }
  // Start together: every child is connected before anyone begins.
  for (int i = 0; i < 60000 && !EveryLogHas(logs, "ready\n"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::ofstream(dir + "/go") << "go\n";

  std::string error;
  std::vector<CountOp> history = RunWorkload(client(), 0, kChildThreads, kOpsPerThread, error);
  ASSERT_TRUE(error.empty()) << error;
  for (int p = 0; p < kProcesses; ++p) {
    EXPECT_EQ(WaitForExit(children[p], std::chrono::seconds(300)), 0) << "child " << p + 1 << ":\n"
                                                                      << ReadFile(logs[p]);
  }
  for (const std::string& log : logs) {
    std::istringstream lines(ReadFile(log));
    std::string line;
    while (std::getline(lines, line)) {
      if (auto op = Parse(line)) history.push_back(*op);
    }
  }
  ASSERT_EQ(history.size(), size_t{(kProcesses + 1) * kChildThreads * kOpsPerThread});

  // The processes really ran at once: some operation of one was in flight
  // while another process's was. (Not asked of every child: a loaded
  // machine may run one child after the others.)
  bool overlapped = false;
  for (size_t i = 0; i < history.size() && !overlapped; ++i) {
    for (size_t j = 0; j < history.size() && !overlapped; ++j) {
      const CountOp& a = history[i];
      const CountOp& b = history[j];
      overlapped = a.proc != b.proc && a.invoke < b.complete && b.invoke < a.complete;
    }
  }
  EXPECT_TRUE(overlapped) << "no two processes ever had operations in flight at once";
  EXPECT_EQ(CheckPerKey(history), "");
  if (!HasFailure()) std::filesystem::remove_all(dir);  // else keep the logs
}

// ---- The model on planted histories ----------------------------------------

CountOp Op(CountOp::Kind kind, int64_t invoke, int64_t complete, int64_t a, int64_t value,
           int64_t version = 0) {
  CountOp op;
  op.kind = kind;
  op.invoke = invoke;
  op.complete = complete;
  op.a = a;
  op.value = value;
  op.version = version;
  return op;
}

TEST(CounterMapModel, AcceptsALegalHistoryAndRejectsPlantedViolations) {
  // Add(1) -> 1 @10 and Add(2) -> 3 @11 overlap a Get that saw 1: legal.
  std::vector<CountOp> legal = {Op(CountOp::kAdd, 0, 10, 1, 1, 10),
                                Op(CountOp::kAdd, 5, 20, 2, 3, 11), Op(CountOp::kGet, 6, 15, 0, 1)};
  EXPECT_TRUE(Linearizable(legal));

  // A read that returns 0 after an Add(1) completed is stale.
  std::vector<CountOp> stale = {Op(CountOp::kAdd, 0, 10, 1, 1, 10),
                                Op(CountOp::kGet, 20, 30, 0, 0)};
  EXPECT_FALSE(Linearizable(stale));

  // Two Adds that both claim to have moved 0 to 1: one was lost.
  std::vector<CountOp> lost = {Op(CountOp::kAdd, 0, 10, 1, 1, 10),
                               Op(CountOp::kAdd, 0, 10, 1, 1, 11)};
  EXPECT_FALSE(Linearizable(lost));

  // A CompareAndSet(0 -> 5) that failed while the key surely held 0.
  CountOp cas = Op(CountOp::kCompareAndSet, 20, 30, 0, 7);
  cas.b = 5;
  cas.code = absl::StatusCode::kFailedPrecondition;
  EXPECT_FALSE(Linearizable({cas}));

  // A Remove of a key that surely held 4 that reports 3.
  CountOp remove = Op(CountOp::kRemove, 20, 30, 0, 3, 12);
  remove.present = true;
  EXPECT_FALSE(Linearizable({Op(CountOp::kSet, 0, 10, 4, 4, 10), remove}));
  remove.value = 4;
  EXPECT_TRUE(Linearizable({Op(CountOp::kSet, 0, 10, 4, 4, 10), remove}));

  // Versions must rise: a later write with an older version is refused.
  std::vector<CountOp> backwards = {Op(CountOp::kSet, 0, 10, 4, 4, 10),
                                    Op(CountOp::kSet, 20, 30, 5, 5, 9)};
  EXPECT_FALSE(Linearizable(backwards));
}

}  // namespace
}  // namespace atomix::testing
