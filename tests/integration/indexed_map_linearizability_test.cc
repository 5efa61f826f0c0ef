// IndexedMap histories against a real broker must be linearizable under a
// sequential model of the map written here (indexes from a per-map counter,
// kept on rewrite, retired on removal): from eight threads, and from three
// processes (this test binary run again as children) and two threads at
// once, whose histories are merged. The model's own test shows it rejects
// planted non-linearizable histories.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
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
#include "tests/support/linearizability.h"
#include "tests/support/process.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;
using IntMap = IndexedMap<int64_t, int64_t>;
using IntEntry = IndexedEntry<int64_t, int64_t>;

class IndexedMapLinearizability : public BrokerTest {};

// ---- A model of the map for the linearizability checker --------------------

constexpr int kModelKeys = 3;

struct ModelSlot {
  bool present = false;
  int64_t index = 0;
  int64_t value = 0;
  int64_t version = 0;
  bool operator==(const ModelSlot&) const = default;
};

struct ModelState {
  std::array<ModelSlot, kModelKeys> slots{};
  int64_t next_index = 1;
  int64_t last_write = 0;  // writes linearize in revision order
  bool operator==(const ModelState&) const = default;
  template <class H>
  friend H AbslHashValue(H h, const ModelState& s) {
    for (const ModelSlot& slot : s.slots) {
      h = H::combine(std::move(h), slot.present, slot.index, slot.value, slot.version);
    }
    return H::combine(std::move(h), s.next_index, s.last_write);
  }
};

struct ModelOp {
  enum Kind {
    kPut,
    kInsert,
    kPutIfVersion,
    kRemove,
    kGet,
    kFirst,
    kLast,
    kAt,
    kNext,
    kPrev,
    kSize
  };
  int64_t invoke = 0;
  int64_t complete = 0;
  Kind kind = kGet;
  int64_t key = 0;       // Put, Insert, PutIfVersion, Remove, Get
  int64_t value = 0;     // written value
  int64_t argument = 0;  // PutIfVersion: if_version; At/Next/Prev: index
  // Observed.
  absl::StatusCode code = absl::StatusCode::kOk;
  bool present = false;  // reads of one entry
  int64_t out_key = 0;
  int64_t out_index = 0;
  int64_t out_value = 0;
  int64_t version = 0;  // the entry's version, a write's revision, or Error.current
  int64_t size = 0;

  std::string Serialize() const {
    return absl::StrCat("HIST ", invoke, " ", complete, " ", kind, " ", key, " ", value, " ",
                        argument, " ", static_cast<int>(code), " ", present, " ", out_key, " ",
                        out_index, " ", out_value, " ", version, " ", size);
  }
  static std::optional<ModelOp> Parse(const std::string& line) {
    std::istringstream in(line);
    std::string tag;
    ModelOp op;
    int kind = 0, code = 0, present = 0;
    in >> tag >> op.invoke >> op.complete >> kind >> op.key >> op.value >> op.argument >> code >>
        present >> op.out_key >> op.out_index >> op.out_value >> op.version >> op.size;
    if (tag != "HIST" || in.fail()) return std::nullopt;
    op.kind = static_cast<Kind>(kind);
    op.code = static_cast<absl::StatusCode>(code);
    op.present = present != 0;
    return op;
  }
};

// The slot a navigation reads, or -1.
int Navigate(const ModelState& s, ModelOp::Kind kind, int64_t index) {
  int best = -1;
  for (int k = 0; k < kModelKeys; ++k) {
    const ModelSlot& slot = s.slots[k];
    if (!slot.present) continue;
    const int64_t i = slot.index;
    const int64_t b = best < 0 ? 0 : s.slots[best].index;
    switch (kind) {
      case ModelOp::kFirst:
        if (best < 0 || i < b) best = k;
        break;
      case ModelOp::kLast:
        if (best < 0 || i > b) best = k;
        break;
      case ModelOp::kAt:
        if (i == index) best = k;
        break;
      case ModelOp::kNext:
        if (i > index && (best < 0 || i < b)) best = k;
        break;
      case ModelOp::kPrev:
        if (i < index && (best < 0 || i > b)) best = k;
        break;
      default:
        break;
    }
  }
  return best;
}

std::optional<ModelState> ModelStep(const ModelState& s, const ModelOp& op) {
  using absl::StatusCode;
  const ModelSlot* slot = op.key >= 0 && op.key < kModelKeys ? &s.slots[op.key] : nullptr;
  // A successful write of `value` (present) or a removal.
  auto write = [&](bool present) -> std::optional<ModelState> {
    if (op.code != StatusCode::kOk || op.version <= s.last_write) return std::nullopt;
    ModelState next = s;
    ModelSlot& target = next.slots[op.key];
    if (present && !target.present) target.index = next.next_index++;
    target.present = present;
    target.value = present ? op.value : 0;
    target.version = present ? op.version : 0;
    if (!present) target.index = 0;
    next.last_write = op.version;
    return next;
  };
  auto unchanged_if = [&](bool ok) { return ok ? std::optional<ModelState>(s) : std::nullopt; };
  switch (op.kind) {
    case ModelOp::kPut:
      return slot ? write(true) : std::nullopt;
    case ModelOp::kInsert:
      if (!slot) return std::nullopt;
      if (slot->present) return unchanged_if(op.code == StatusCode::kAlreadyExists);
      return write(true);
    case ModelOp::kPutIfVersion:
      if (!slot) return std::nullopt;
      if (!slot->present) return unchanged_if(op.code == StatusCode::kNotFound);
      if (slot->version != op.argument) {
        return unchanged_if(op.code == StatusCode::kFailedPrecondition &&
                            op.version == slot->version);
      }
      return write(true);
    case ModelOp::kRemove:
      if (!slot) return std::nullopt;
      if (!slot->present) return unchanged_if(op.code == StatusCode::kNotFound);
      return write(false);
    case ModelOp::kGet:
      if (!slot || op.code != StatusCode::kOk || op.present != slot->present) return std::nullopt;
      return unchanged_if(!slot->present ||
                          (op.out_index == slot->index && op.out_value == slot->value &&
                           op.version == slot->version));
    case ModelOp::kFirst:
    case ModelOp::kLast:
    case ModelOp::kAt:
    case ModelOp::kNext:
    case ModelOp::kPrev: {
      if (op.code != StatusCode::kOk) return std::nullopt;
      const int k = Navigate(s, op.kind, op.argument);
      if (op.present != (k >= 0)) return std::nullopt;
      if (k < 0) return s;
      const ModelSlot& found = s.slots[k];
      return unchanged_if(op.out_key == k && op.out_index == found.index &&
                          op.out_value == found.value && op.version == found.version);
    }
    case ModelOp::kSize: {
      int64_t n = 0;
      for (const ModelSlot& x : s.slots) n += x.present ? 1 : 0;
      return unchanged_if(op.code == StatusCode::kOk && op.size == n);
    }
  }
  return std::nullopt;
}

bool Linearizable(const std::vector<ModelOp>& history) {
  return CheckLinearizable(history, ModelState{}, ModelStep, absl::Hash<ModelState>{});
}

// Runs `count` random operations on `m`, recording each with its times.
std::vector<ModelOp> RandomOps(const IntMap& m, uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  std::vector<ModelOp> ops;
  std::array<int64_t, kModelKeys> seen_version{};
  int64_t highest_index = 0;
  for (int i = 0; i < count; ++i) {
    ModelOp op;
    const int dice = static_cast<int>(rng() % 20);
    op.key = static_cast<int64_t>(rng() % kModelKeys);
    op.value = static_cast<int64_t>(seed * 100000 + i);
    op.argument = static_cast<int64_t>(rng() % (highest_index + 3));
    auto read_entry = [&](const absl::StatusOr<std::optional<IntEntry>>& r) {
      op.code = r.status().code();
      if (!r.ok() || !r->has_value()) return;
      op.present = true;
      op.out_key = (*r)->key;
      op.out_index = (*r)->index;
      op.out_value = (*r)->value;
      op.version = (*r)->version;
      highest_index = std::max(highest_index, op.out_index);
      if (op.out_key >= 0 && op.out_key < kModelKeys) seen_version[op.out_key] = op.version;
    };
    auto wrote = [&](const absl::StatusOr<Version>& r) {
      op.code = r.status().code();
      if (r.ok()) op.version = *r;
      if (op.code == absl::StatusCode::kFailedPrecondition) {
        op.version = CurrentVersion(r.status()).value_or(-1);
      }
    };
    op.invoke = NowNanos();
    if (dice < 4) {
      op.kind = ModelOp::kPut;
      wrote(m.Put(op.key, op.value));
    } else if (dice < 6) {
      op.kind = ModelOp::kInsert;
      wrote(m.Insert(op.key, op.value));
    } else if (dice < 8) {
      op.kind = ModelOp::kPutIfVersion;
      op.argument = std::max<int64_t>(1, seen_version[op.key]);
      wrote(m.Put(op.key, op.value, IfVersion(op.argument)));
    } else if (dice < 10) {
      op.kind = ModelOp::kRemove;
      wrote(m.Remove(op.key));
    } else if (dice < 12) {
      op.kind = ModelOp::kGet;
      read_entry(m.Get(op.key));
    } else if (dice < 19) {
      const ModelOp::Kind kinds[] = {ModelOp::kFirst, ModelOp::kLast, ModelOp::kAt,  ModelOp::kNext,
                                     ModelOp::kPrev,  ModelOp::kNext, ModelOp::kPrev};
      op.kind = kinds[dice - 12];
      switch (op.kind) {
        case ModelOp::kFirst:
          read_entry(m.First());
          break;
        case ModelOp::kLast:
          read_entry(m.Last());
          break;
        case ModelOp::kAt:
          read_entry(m.At(op.argument));
          break;
        case ModelOp::kNext:
          read_entry(m.Next(op.argument));
          break;
        default:
          read_entry(m.Prev(op.argument));
          break;
      }
    } else {
      op.kind = ModelOp::kSize;
      auto r = m.Size();
      op.code = r.status().code();
      if (r.ok()) op.size = *r;
    }
    op.complete = NowNanos();
    ops.push_back(op);
  }
  return ops;
}

TEST(IndexedMapModel, RejectsPlantedNonLinearizableHistories) {
  auto op = [](ModelOp::Kind kind, int64_t invoke, int64_t complete) {
    ModelOp o;
    o.kind = kind;
    o.invoke = invoke;
    o.complete = complete;
    return o;
  };
  // k0 is inserted, then (strictly after) k1; First() must then be k0 @1.
  ModelOp put0 = op(ModelOp::kPut, 0, 10);
  put0.key = 0, put0.value = 7, put0.version = 1;
  ModelOp put1 = op(ModelOp::kPut, 20, 30);
  put1.key = 1, put1.value = 8, put1.version = 2;
  ModelOp first = op(ModelOp::kFirst, 40, 50);
  first.present = true, first.out_key = 0, first.out_index = 1, first.out_value = 7;
  first.version = 1;
  EXPECT_TRUE(Linearizable({put0, put1, first}));
  // Seeing k1 at index 1 is impossible: k0 was inserted first.
  ModelOp wrong = first;
  wrong.out_key = 1, wrong.out_value = 8, wrong.version = 2;
  EXPECT_FALSE(Linearizable({put0, put1, wrong}));
  // With the two puts concurrent, either order is possible; the revisions
  // say k1 went first, so k1 holds index 1 and k0 index 2.
  put1.invoke = 5;
  put1.version = 1;
  put0.version = 2;
  first.out_key = 1, first.out_value = 8, first.version = 1;
  ModelOp next = op(ModelOp::kNext, 60, 70);
  next.argument = 1, next.present = true, next.out_key = 0, next.out_index = 2;
  next.out_value = 7, next.version = 2;
  EXPECT_TRUE(Linearizable({put0, put1, first, next}));
  next.out_index = 3;  // an index that was never handed out
  EXPECT_FALSE(Linearizable({put0, put1, first, next}));
  next.out_index = 2;
  // A removed key's index is not reused: after remove and put, At(1) is
  // empty.
  ModelOp remove = op(ModelOp::kRemove, 80, 90);
  remove.key = 1, remove.version = 3;
  ModelOp again = op(ModelOp::kPut, 100, 110);
  again.key = 1, again.value = 9, again.version = 4;
  ModelOp at1 = op(ModelOp::kAt, 120, 130);
  at1.argument = 1;
  EXPECT_TRUE(Linearizable({put0, put1, first, next, remove, again, at1}));
  at1.present = true, at1.out_key = 1, at1.out_index = 1, at1.out_value = 9, at1.version = 4;
  EXPECT_FALSE(Linearizable({put0, put1, first, next, remove, again, at1}));
}

// Eight threads share one small map; their history must be linearizable,
// and the same history with one read corrupted must not be.
TEST_F(IndexedMapLinearizability, ThreadHistoryIsLinearizable) {
  constexpr int kThreads = 8;
  constexpr int kOpsPerThread = 150;
  auto m = GetIndexedMap<int64_t, int64_t>(client(), "lin-threads");
  ASSERT_TRUE(m.ok()) << m.status();
  std::mutex mu;
  std::vector<ModelOp> history;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<ModelOp> mine = RandomOps(*m, 1 + t, kOpsPerThread);
      std::lock_guard<std::mutex> l(mu);
      history.insert(history.end(), mine.begin(), mine.end());
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(history.size(), size_t{kThreads * kOpsPerThread});
  for (const ModelOp& op : history) {
    ASSERT_TRUE(op.code == absl::StatusCode::kOk || op.kind <= ModelOp::kRemove) << op.Serialize();
  }
  EXPECT_TRUE(Linearizable(history));

  for (ModelOp& op : history) {
    if (op.present && op.kind >= ModelOp::kFirst) {
      op.out_index += 1;
      break;
    }
  }
  EXPECT_FALSE(Linearizable(history));
}

// ---- Several processes ------------------------------------------------------

// "<endpoint> <seed> <ops> <go file>".
constexpr char kChildEnv[] = "ATOMIX_INDEXED_MAP_CHILD";

// Not a test of its own: the body of a child process that
// MergedProcessHistoryIsLinearizable starts (skipped otherwise). Connects,
// says READY, waits for the go file so that all processes start together,
// then prints its history, one HIST line per operation.
TEST(IndexedMapChild, RecordsItsHistory) {
  const char* spec = std::getenv(kChildEnv);
  if (spec == nullptr) GTEST_SKIP() << "runs only as a child of a multi-process test";
  std::istringstream in(spec);
  std::string endpoint, go;
  uint64_t seed = 0;
  int ops = 0;
  in >> endpoint >> seed >> ops >> go;
  ClientOptions o;
  o.endpoints = {endpoint};
  o.connect_timeout = seconds(10);
  o.default_call_timeout = seconds(10);
  auto c = Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status();
  auto m = GetIndexedMap<int64_t, int64_t>(*c, "lin-processes");
  ASSERT_TRUE(m.ok()) << m.status();
  std::puts("READY");
  std::fflush(stdout);
  for (int i = 0; i < 60000 && !std::filesystem::exists(go); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(std::filesystem::exists(go)) << "no go file " << go;
  std::string out;
  for (const ModelOp& op : RandomOps(*m, seed, ops)) absl::StrAppend(&out, op.Serialize(), "\n");
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

// Waits (at most a minute) until `log` holds `text`.
bool WaitForText(const std::string& log, const std::string& text) {
  for (int i = 0; i < 6000; ++i) {
    if (ReadFile(log).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Three processes (this test binary again) and two threads of this one work
// on one map at the same time. The children write their histories, timed
// with the same monotonic clock, to their logs; the merged history must be
// linearizable.
TEST_F(IndexedMapLinearizability, MergedProcessHistoryIsLinearizable) {
  constexpr int kChildren = 3;
  constexpr int kThreads = 2;
  constexpr int kOps = 300;
  const std::string dir = MakeTempDir("indexed-map-processes");
  const std::string go = dir + "/go";
  auto m = GetIndexedMap<int64_t, int64_t>(client(), "lin-processes");
  ASSERT_TRUE(m.ok()) << m.status();

  std::vector<pid_t> children;
  std::vector<std::string> logs;
  for (int i = 0; i < kChildren; ++i) {
    logs.push_back(absl::StrCat(dir, "/child-", i, ".log"));
    auto pid = SpawnTestChild(
        {absl::StrCat(kChildEnv, "=", broker().endpoint(), " ", 100 + i, " ", kOps, " ", go)},
        "IndexedMapChild.RecordsItsHistory", logs.back());
    ASSERT_TRUE(pid.ok()) << pid.status();
    children.push_back(*pid);
  }
  for (int i = 0; i < kChildren; ++i) {
    ASSERT_TRUE(WaitForText(logs[i], "READY")) << "child " << i << ":\n" << ReadFile(logs[i]);
  }
  std::fclose(std::fopen(go.c_str(), "w"));
  std::mutex mu;
  std::vector<ModelOp> history;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<ModelOp> mine = RandomOps(*m, 200 + t, kOps);
      std::lock_guard<std::mutex> l(mu);
      history.insert(history.end(), mine.begin(), mine.end());
    });
  }
  for (auto& th : threads) th.join();

  for (int i = 0; i < kChildren; ++i) {
    int status = 0;
    // Children finish in seconds; a hung one is killed rather than waited
    // for forever.
    for (int tries = 0; tries < 1200; ++tries) {
      if (waitpid(children[i], &status, WNOHANG) == children[i]) break;
      if (tries == 1199) status = KillAndReap(children[i], SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(ExitCode(status), 0) << "child " << i << ":\n" << ReadFile(logs[i]);
    std::istringstream lines(ReadFile(logs[i]));
    std::string line;
    int parsed = 0;
    while (std::getline(lines, line)) {
      if (auto op = ModelOp::Parse(line)) {
        history.push_back(*op);
        ++parsed;
      }
    }
    EXPECT_EQ(parsed, kOps) << ReadFile(logs[i]);
  }
  ASSERT_EQ(history.size(), size_t{(kChildren + kThreads) * kOps});
  // The processes really ran at the same time as each other.
  int64_t child_start = INT64_MAX, parent_end = 0;
  for (const ModelOp& op : history) {
    if (op.value / 100000 < 200) child_start = std::min(child_start, op.invoke);
    if (op.value / 100000 >= 200) parent_end = std::max(parent_end, op.complete);
  }
  EXPECT_LT(child_start, parent_end);
  EXPECT_TRUE(Linearizable(history));
  // A child's read that no state explains (a size above the number of
  // keys) must be caught.
  for (ModelOp& op : history) {
    if (op.value / 100000 < 200 && op.kind == ModelOp::kSize) {
      op.size = kModelKeys + 1;
      break;
    }
  }
  EXPECT_FALSE(Linearizable(history));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace atomix::testing
