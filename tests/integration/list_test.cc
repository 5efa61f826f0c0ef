// List<T> against the real broker: every operation with exact versions and
// codes; producers and consumers on threads; consumer PROCESSES popping one
// queue (no item lost, none duplicated); linearizability of the merged
// histories against a sequential list model. Watches: list_watch_test.cc.
//
// The child processes are this test binary itself, run through /usr/bin/env
// with ATOMIX_LIST_CHILD set and a filter selecting ListChild.Run, which is
// skipped otherwise. A child prints one "OP ..." line per operation, with
// CLOCK_MONOTONIC times (NowNanos), to its log file; the parent merges them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/support/linearizability.h"
#include "tests/support/process.h"
#include "tests/support/scale.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;
using IntList = List<int64_t>;
using Item = ListItem<int64_t>;

// ---- A sequential model of one list -----------------------------------------

struct ListModel {
  std::vector<std::pair<int64_t, int64_t>> items;  // value, version
  int64_t revision = 0;                            // the last write's version
  bool operator==(const ListModel&) const = default;
  template <class H>
  friend H AbslHashValue(H h, const ListModel& s) {
    return H::combine(std::move(h), s.items, s.revision);
  }
};

struct ListOp {
  enum Kind { kAppend, kPopFront, kPopBack, kGet, kSize, kSetIfVersion };
  int64_t invoke = 0;
  int64_t complete = 0;
  Kind kind = kGet;
  int64_t arg = 0;         // Append, Set: the value; Get, Set: the index
  int64_t if_version = 0;  // Set
  int64_t set_index = 0;   // Set
  absl::StatusCode code = absl::StatusCode::kOk;
  bool present = false;  // Pop
  int64_t value = 0;     // Pop, Get
  int64_t version = 0;   // item version; write revision; current on mismatch
  int64_t index = 0;     // Pop, Get, Append, Set
  int64_t size = 0;      // Size, Append, Set

  std::string Line() const {
    return absl::StrFormat("OP %d %d %d %d %d %d %d %d %d %d %d %d", kind, invoke, complete, arg,
                           if_version, set_index, static_cast<int>(code), present, value, version,
                           index, size);
  }
  static std::optional<ListOp> Parse(const std::string& line) {
    std::istringstream in(line);
    std::string tag;
    int kind = 0, code = 0, present = 0;
    ListOp op;
    if (!(in >> tag >> kind >> op.invoke >> op.complete >> op.arg >> op.if_version >>
          op.set_index >> code >> present >> op.value >> op.version >> op.index >> op.size) ||
        tag != "OP") {
      return std::nullopt;
    }
    op.kind = static_cast<Kind>(kind);
    op.code = static_cast<absl::StatusCode>(code);
    op.present = present != 0;
    return op;
  }
};

// The model's answer to `op` from `s`: the next state if `op` observed what
// the list would have answered, else nullopt.
std::optional<ListModel> ListStep(const ListModel& s, const ListOp& op) {
  using absl::StatusCode;
  const int64_t size = static_cast<int64_t>(s.items.size());
  ListModel next = s;
  switch (op.kind) {
    case ListOp::kAppend:
      if (op.code != StatusCode::kOk || op.version <= s.revision || op.index != size ||
          op.size != size + 1) {
        return std::nullopt;
      }
      next.items.emplace_back(op.arg, op.version);
      next.revision = op.version;
      return next;
    case ListOp::kPopFront:
    case ListOp::kPopBack: {
      if (op.code != StatusCode::kOk) return std::nullopt;
      if (size == 0) return op.present ? std::nullopt : std::optional<ListModel>(s);
      const bool front = op.kind == ListOp::kPopFront;
      const auto& end = front ? s.items.front() : s.items.back();
      if (!op.present || op.value != end.first || op.version != end.second ||
          op.index != (front ? 0 : size - 1)) {
        return std::nullopt;
      }
      next.items.erase(front ? next.items.begin() : next.items.end() - 1);
      return next;
    }
    case ListOp::kGet:
      if (op.arg >= size) {
        return op.code == StatusCode::kOutOfRange ? std::optional<ListModel>(s) : std::nullopt;
      }
      if (op.code != StatusCode::kOk || op.index != op.arg || op.value != s.items[op.arg].first ||
          op.version != s.items[op.arg].second) {
        return std::nullopt;
      }
      return s;
    case ListOp::kSize:
      return op.code == StatusCode::kOk && op.size == size ? std::optional<ListModel>(s)
                                                           : std::nullopt;
    case ListOp::kSetIfVersion: {
      const int64_t i = op.set_index;
      if (i >= size) {
        return op.code == StatusCode::kOutOfRange ? std::optional<ListModel>(s) : std::nullopt;
      }
      if (s.items[i].second != op.if_version) {
        return op.code == StatusCode::kFailedPrecondition && op.version == s.items[i].second
                   ? std::optional<ListModel>(s)
                   : std::nullopt;
      }
      if (op.code != StatusCode::kOk || op.version <= s.revision || op.index != i ||
          op.size != size) {
        return std::nullopt;
      }
      next.items[i] = {op.arg, op.version};
      next.revision = op.version;
      return next;
    }
  }
  return std::nullopt;
}

bool Linearizable(const std::vector<ListOp>& history) {
  return CheckLinearizable(history, ListModel{}, ListStep, absl::Hash<ListModel>{});
}

// Runs `n` random operations on `list` (values unique to `who`) and records
// them. Fails the test on an unexpected error.
std::vector<ListOp> RunMixedOps(const IntList& list, int who, int n) {
  std::mt19937 rng(1000 + who);
  std::vector<ListOp> ops;
  int64_t seen_version = 0;  // of the item last seen at index 0
  for (int i = 0; i < n; ++i) {
    ListOp op;
    const int dice = static_cast<int>(rng() % 20);
    op.invoke = NowNanos();
    if (dice < 7) {
      op.kind = ListOp::kAppend;
      op.arg = int64_t{who} * 1000000 + i;
      auto r = list.Append(op.arg);
      op.complete = NowNanos();
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) return ops;
      op.version = r->version;
      op.index = r->index;
      op.size = r->size;
    } else if (dice < 12) {
      op.kind = dice < 10 ? ListOp::kPopFront : ListOp::kPopBack;
      auto r = op.kind == ListOp::kPopFront ? list.PopFront() : list.PopBack();
      op.complete = NowNanos();
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) return ops;
      op.present = r->has_value();
      if (op.present) {
        op.value = (*r)->value;
        op.version = (*r)->version;
        op.index = (*r)->index;
      }
    } else if (dice < 15) {
      op.kind = ListOp::kGet;
      op.arg = rng() % 3;
      auto r = list.Get(op.arg);
      op.complete = NowNanos();
      op.code = r.status().code();
      if (r.ok()) {
        op.value = r->value;
        op.version = r->version;
        op.index = r->index;
        if (op.arg == 0) seen_version = r->version;
      }
      EXPECT_TRUE(r.ok() || op.code == absl::StatusCode::kOutOfRange) << r.status();
    } else if (dice < 17) {
      op.kind = ListOp::kSize;
      auto r = list.Size();
      op.complete = NowNanos();
      EXPECT_TRUE(r.ok()) << r.status();
      op.size = r.value_or(-1);
    } else {
      op.kind = ListOp::kSetIfVersion;
      op.arg = int64_t{who} * 1000000 + i;
      op.if_version = seen_version;
      auto r = list.Set(0, op.arg, IfVersion(seen_version));
      op.complete = NowNanos();
      op.code = r.status().code();
      if (r.ok()) {
        op.version = r->version;
        op.index = r->index;
        op.size = r->size;
      } else if (op.code == absl::StatusCode::kFailedPrecondition) {
        op.version = CurrentVersion(r.status()).value_or(-1);
      } else {
        EXPECT_EQ(op.code, absl::StatusCode::kOutOfRange) << r.status();
      }
    }
    ops.push_back(op);
  }
  return ops;
}

// ---- Child processes -------------------------------------------------------

// Starts this binary as child `who` of `children` doing `what` ("pop" or
// "mixed") on the list `name` of the broker at `endpoint`; its output goes to
// `log`.
pid_t SpawnChild(const std::string& what, int who, int children, const std::string& endpoint,
                 const std::string& name, const std::string& log) {
  auto pid = SpawnTestChild(
      {absl::StrCat("ATOMIX_LIST_CHILD=", what), absl::StrCat("ATOMIX_LIST_WHO=", who),
       absl::StrCat("ATOMIX_LIST_ENDPOINT=", endpoint), absl::StrCat("ATOMIX_LIST_NAME=", name),
       absl::StrCat("ATOMIX_LIST_CHILDREN=", children)},
      "ListChild.Run", log);
  EXPECT_TRUE(pid.ok()) << pid.status();
  return pid.ok() ? *pid : -1;
}

// Waits up to two minutes for `pid`; its exit code (SIGKILL after that).
int WaitChild(pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return ExitCode(status);
    if (r < 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ExitCode(KillAndReap(pid, SIGKILL));
}

std::vector<ListOp> ReadOps(const std::string& log) {
  std::vector<ListOp> ops;
  std::istringstream in(ReadFile(log));
  std::string line;
  while (std::getline(in, line)) {
    if (auto op = ListOp::Parse(line)) ops.push_back(*op);
  }
  return ops;
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// The child side. "pop": PopFront until the list is empty. "mixed": 150
// random operations. Every operation is printed as an OP line.
TEST(ListChild, Run) {
  const std::string what = Env("ATOMIX_LIST_CHILD");
  if (what.empty()) GTEST_SKIP() << "runs only as a child of ListE2E";
  ClientOptions options;
  options.endpoints = {Env("ATOMIX_LIST_ENDPOINT")};
  options.connect_timeout = seconds(10);
  options.default_call_timeout = seconds(10);
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto list = GetList<int64_t>(*client, Env("ATOMIX_LIST_NAME"));
  ASSERT_TRUE(list.ok()) << list.status();
  const int who = std::atoi(Env("ATOMIX_LIST_WHO"));
  // Start together: every child counts itself in and waits for the others.
  auto ready = GetCounter(*client, absl::StrCat(list->name(), "-ready"));
  ASSERT_TRUE(ready.ok()) << ready.status();
  ASSERT_TRUE(ready->Increment().ok());
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (ready->Get().value_or(0) < std::atoi(Env("ATOMIX_LIST_CHILDREN"))) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the other children never came";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::ostringstream out;
  if (what == "pop") {
    while (true) {
      ListOp op;
      op.kind = ListOp::kPopFront;
      op.invoke = NowNanos();
      auto r = list->PopFront();
      op.complete = NowNanos();
      ASSERT_TRUE(r.ok()) << r.status();
      op.present = r->has_value();
      if (op.present) {
        op.value = (*r)->value;
        op.version = (*r)->version;
        op.index = (*r)->index;
      }
      out << op.Line() << "\n";
      if (!op.present) break;
    }
  } else {
    for (const ListOp& op : RunMixedOps(*list, who, 150)) out << op.Line() << "\n";
  }
  std::fputs(out.str().c_str(), stdout);
  std::fflush(stdout);
}

// ---- Tests against the broker ------------------------------------------------

class ListE2E : public BrokerTest {
 protected:
  IntList Open(const std::string& name) {
    auto l = GetList<int64_t>(client(), name);
    EXPECT_TRUE(l.ok()) << l.status();
    return *std::move(l);
  }
};

TEST_F(ListE2E, EveryOperationWithExactVersionsAndCodes) {
  IntList l = Open("ops");
  auto first = l.Append(10);
  ASSERT_TRUE(first.ok()) << first.status();
  const Version v = first->version;  // every later write takes the next revision
  EXPECT_EQ(*first, (ListWrite{v, 0, 1}));
  EXPECT_EQ(*l.AppendAll({20, 30, 40}), (ListWrite{v + 1, 1, 4}));
  EXPECT_EQ(*l.Insert(0, 5), (ListWrite{v + 2, 0, 5}));
  EXPECT_EQ(*l.Insert(5, 50), (ListWrite{v + 3, 5, 6}));  // at the size: appends
  EXPECT_EQ(*l.Get(2), (Item{2, 20, v + 1}));
  EXPECT_EQ(*l.Size(), 6);

  auto stale = l.Set(2, 21, IfVersion(v));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  EXPECT_EQ(CurrentVersion(stale.status()), v + 1);
  EXPECT_EQ(*l.Set(2, 21, IfVersion(v + 1)), (ListWrite{v + 4, 2, 6}));
  EXPECT_EQ(*l.Set(3, 31), (ListWrite{v + 5, 3, 6}));
  EXPECT_EQ(*l.Remove(1, IfVersion(v)), (Item{1, 10, v}));  // v + 6
  EXPECT_EQ(*l.PopFront(), (Item{0, 5, v + 2}));            // v + 7
  EXPECT_EQ(*l.PopBack(), (Item{3, 50, v + 3}));            // v + 8

  auto page = l.Slice(0);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->items, (std::vector<Item>{{0, 21, v + 4}, {1, 31, v + 5}, {2, 40, v + 1}}));
  EXPECT_FALSE(page->more);

  auto out = l.Get(3);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(out.status().message(), "list \"ops\" index 3 is out of range; the size is 3");
  EXPECT_EQ(l.Insert(4, 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(l.Remove(3).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(l.Slice(4).status().code(), absl::StatusCode::kOutOfRange);
  auto negative = l.Get(-1);
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(negative.status().message(), "index is -1; it must not be negative");
  EXPECT_EQ(l.Slice(2, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(l.AppendAll({}).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<int64_t> too_many(10001, 1);
  EXPECT_EQ(l.AppendAll(too_many).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(l.Watch(WatchOptions().Prefix("a")).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto other = GetCounter(client(), "ops");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);

  EXPECT_EQ(*l.Clear(), v + 9);
  EXPECT_EQ(*l.Clear(), 0);  // already empty: no revision
  EXPECT_FALSE(l.PopFront()->has_value());
  EXPECT_FALSE(l.PopBack()->has_value());
  EXPECT_EQ(*l.Append(1), (ListWrite{v + 10, 0, 1}));  // nothing since took one
}

// Producers append unique values (one by one and in batches) while
// consumers pop from both ends: every value is popped exactly once.
TEST_F(ListE2E, ThreadsProduceAndConsumeEveryItemOnce) {
  constexpr int kProducers = 4, kConsumers = 4, kPerProducer = 500;
  IntList l = Open("queue");
  std::atomic<int> producing{kProducers};
  std::mutex mu;
  std::vector<int64_t> popped;
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer;) {
        if (i % 50 == 0) {
          std::vector<int64_t> batch;
          for (int k = 0; k < 5; ++k) batch.push_back(p * 100000 + i + k);
          EXPECT_TRUE(l.AppendAll(batch).ok());
          i += 5;
        } else {
          EXPECT_TRUE(l.Append(p * 100000 + i).ok());
          ++i;
        }
      }
      producing.fetch_sub(1);  // consumers stop once they find the list empty after this
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::vector<int64_t> mine;
      while (true) {
        const bool done = producing.load() == 0;  // read before the pop
        auto r = c % 2 == 0 ? l.PopFront() : l.PopBack();
        ASSERT_TRUE(r.ok()) << r.status();
        if (r->has_value()) {
          mine.push_back((*r)->value);
        } else if (done) {
          break;
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      popped.insert(popped.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  std::sort(popped.begin(), popped.end());
  std::vector<int64_t> expected;
  for (int p = 0; p < kProducers; ++p) {
    for (int i = 0; i < kPerProducer; ++i) expected.push_back(p * 100000 + i);
  }
  EXPECT_EQ(popped, expected);
  EXPECT_EQ(*l.Size(), 0);
}

TEST_F(ListE2E, ThreadHistoryIsLinearizable) {
  constexpr int kThreads = 8, kOps = 200;
  IntList l = Open("lin-threads");
  std::mutex mu;
  std::vector<ListOp> history;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<ListOp> mine = RunMixedOps(l, t, kOps);
      std::lock_guard<std::mutex> lock(mu);
      history.insert(history.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(history.size(), size_t{kThreads * kOps});
  EXPECT_TRUE(Linearizable(history));

  // The same history with one pop's answer changed to "empty" must fail.
  for (ListOp& op : history) {
    if ((op.kind == ListOp::kPopFront || op.kind == ListOp::kPopBack) && op.present) {
      op.present = false;
      break;
    }
  }
  EXPECT_FALSE(Linearizable(history));
}

// Four consumer processes pop one prefilled queue until it is empty: every
// item goes to exactly one of them, each sees its items in queue order, and
// the merged history is linearizable.
TEST_F(ListE2E, ProcessesPoppingOneQueueGetEveryItemOnce) {
  constexpr int kChildren = 4;
  const int kItems = Scaled(3000);
  IntList l = Open("work");
  for (int start = 0; start < kItems; start += 1000) {
    std::vector<int64_t> batch;
    for (int i = start; i < std::min(kItems, start + 1000); ++i) batch.push_back(i);
    ASSERT_TRUE(l.AppendAll(batch).ok());
  }
  const std::string dir = MakeTempDir("atomix-list-pop");
  std::vector<pid_t> pids;
  for (int c = 0; c < kChildren; ++c) {
    pids.push_back(
        SpawnChild("pop", c, kChildren, broker().endpoint(), "work", absl::StrCat(dir, "/", c)));
  }
  std::vector<ListOp> history;
  std::vector<int64_t> popped;
  int busy_children = 0;
  for (int c = 0; c < kChildren; ++c) {
    ASSERT_EQ(WaitChild(pids[c]), 0) << ReadFile(absl::StrCat(dir, "/", c));
    std::vector<ListOp> ops = ReadOps(absl::StrCat(dir, "/", c));
    ASSERT_FALSE(ops.empty());
    EXPECT_FALSE(ops.back().present);  // each ends on an empty queue
    for (size_t i = 0; i + 1 < ops.size(); ++i) {
      ASSERT_TRUE(ops[i].present);
      if (i > 0) EXPECT_GT(ops[i].value, ops[i - 1].value) << "child " << c;
      popped.push_back(ops[i].value);
    }
    busy_children += ops.size() > 1 ? 1 : 0;
    history.insert(history.end(), ops.begin(), ops.end());
  }
  EXPECT_GE(busy_children, 2) << "the consumers did not overlap";
  std::sort(popped.begin(), popped.end());
  ASSERT_EQ(popped.size(), static_cast<size_t>(kItems));
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(popped[i], i) << "lost or duplicated";
  EXPECT_EQ(*l.Size(), 0);

  // The queue model: the state is the next value at the head.
  const auto step = [&](const int64_t& head, const ListOp& op) -> std::optional<int64_t> {
    if (!op.present) return head == kItems ? std::optional<int64_t>(head) : std::nullopt;
    if (op.value != head || op.index != 0) return std::nullopt;
    return head + 1;
  };
  EXPECT_TRUE(CheckLinearizable(history, int64_t{0}, step));
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

// Four processes run random operations on one list; the merged history is
// linearizable.
TEST_F(ListE2E, ProcessHistoryIsLinearizable) {
  constexpr int kChildren = 4;
  Open("lin-procs");
  const std::string dir = MakeTempDir("atomix-list-mixed");
  std::vector<pid_t> pids;
  for (int c = 0; c < kChildren; ++c) {
    pids.push_back(SpawnChild("mixed", c, kChildren, broker().endpoint(), "lin-procs",
                              absl::StrCat(dir, "/", c)));
  }
  std::vector<ListOp> history;
  for (int c = 0; c < kChildren; ++c) {
    ASSERT_EQ(WaitChild(pids[c]), 0) << ReadFile(absl::StrCat(dir, "/", c));
    std::vector<ListOp> ops = ReadOps(absl::StrCat(dir, "/", c));
    ASSERT_EQ(ops.size(), 150u) << ReadFile(absl::StrCat(dir, "/", c));
    history.insert(history.end(), ops.begin(), ops.end());
  }
  EXPECT_TRUE(Linearizable(history));
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

// Histories the model must reject: a pop that saw an empty list after an
// append had completed, and two pops that took the same item.
TEST(ListModel, RejectsPlantedNonLinearizableHistories) {
  ListOp append{.invoke = 1, .complete = 2, .kind = ListOp::kAppend, .arg = 7};
  append.version = 10;
  append.size = 1;
  ListOp empty_pop{.invoke = 3, .complete = 4, .kind = ListOp::kPopFront};
  EXPECT_FALSE(Linearizable({append, empty_pop}));
  // Overlapping, the pop may come first: fine.
  empty_pop.invoke = 1;
  EXPECT_TRUE(Linearizable({append, empty_pop}));

  ListOp pop{.invoke = 3, .complete = 4, .kind = ListOp::kPopFront, .present = true};
  pop.value = 7;
  pop.version = 10;
  ListOp again = pop;
  again.invoke = 5;
  again.complete = 6;
  EXPECT_TRUE(Linearizable({append, pop}));
  EXPECT_FALSE(Linearizable({append, pop, again}));
  again.invoke = 3;  // concurrent with the first pop: still one item only
  EXPECT_FALSE(Linearizable({append, pop, again}));
}

}  // namespace
}  // namespace atomix::testing
