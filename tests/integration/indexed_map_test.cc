// IndexedMap through the public SDK against a real broker: every operation
// with its exact versions, indexes and codes; many threads and several
// processes at once, whose merged history must be linearizable under a
// model of the map written here; watches (events, filters, replay); and
// indexes that stay retired across a disk-store restart from a snapshot.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
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
using StringMap = IndexedMap<std::string, std::string>;
using StringEntry = IndexedEntry<std::string, std::string>;
using StringEvent = IndexedMapEvent<std::string, std::string>;
using IntMap = IndexedMap<int64_t, int64_t>;
using IntEntry = IndexedEntry<int64_t, int64_t>;

class IndexedMapIntegration : public BrokerTest {};

// "key@index=value" for an entry, or "none".
std::string Show(const std::optional<StringEntry>& e) {
  if (!e) return "none";
  return absl::StrCat(e->key, "@", e->index, "=", e->value);
}

std::string Show(const absl::StatusOr<std::optional<StringEntry>>& e) {
  if (!e.ok()) return e.status().ToString();
  return Show(*e);
}

std::vector<std::string> List(const StringMap& m, const IndexedListOptions& options = {}) {
  std::vector<std::string> out;
  for (const auto& e : m.Entries(options)) {
    if (!e.ok()) {
      out.push_back(e.status().ToString());
      break;
    }
    out.push_back(Show(std::optional<StringEntry>(*e)));
  }
  return out;
}

TEST_F(IndexedMapIntegration, EveryOperationWithExactVersionsIndexesAndCodes) {
  auto m = GetIndexedMap<std::string, std::string>(client(), "ops");
  ASSERT_TRUE(m.ok()) << m.status();
  // The memory store counts revisions from 1; opening takes none.
  EXPECT_EQ(*m->Put("a", "1"), 1);
  EXPECT_EQ(*m->Put("b", "2"), 2);
  EXPECT_EQ(*m->Put("c", "3"), 3);
  auto b = m->Get("b");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ(**b, (StringEntry{2, "b", "2", 2}));
  EXPECT_EQ(Show(m->Get("zz")), "none");

  // Rewriting keeps the index; IfVersion compares the version.
  EXPECT_EQ(*m->Put("a", "4"), 4);
  auto stale = m->Put("a", "5", IfVersion(1));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  EXPECT_EQ(CurrentVersion(stale.status()), 4);
  EXPECT_EQ(*m->Put("a", "5", IfVersion(4)), 5);
  EXPECT_EQ(Show(m->Get("a")), "a@1=5");
  auto absent = m->Put("y", "0", IfVersion(3));
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kNotFound) << absent.status();

  // Insert, and Put with IfVersion(0), only if absent.
  auto dup = m->Insert("a", "x");
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists) << dup.status();
  EXPECT_NE(dup.status().message().find("index 1"), std::string::npos) << dup.status();
  EXPECT_EQ(m->Put("b", "x", IfVersion(0)).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*m->Put("x", "6", IfVersion(0)), 6);
  EXPECT_EQ(*m->Insert("w", "7"), 7);

  // Remove retires the index.
  auto wrong = m->Remove("b", IfVersion(9));
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(wrong.status()), 2);
  EXPECT_EQ(*m->Remove("b", IfVersion(2)), 8);
  EXPECT_EQ(*m->Remove("w"), 9);
  EXPECT_EQ(m->Remove("b").status().code(), absl::StatusCode::kNotFound);

  // Navigation across the gap at 2 (and 5 at the end).
  EXPECT_EQ(Show(m->First()), "a@1=5");
  EXPECT_EQ(Show(m->Last()), "x@4=6");
  EXPECT_EQ(Show(m->At(3)), "c@3=3");
  EXPECT_EQ(Show(m->At(2)), "none");
  EXPECT_EQ(Show(m->Next(0)), "a@1=5");
  EXPECT_EQ(Show(m->Next(1)), "c@3=3");
  EXPECT_EQ(Show(m->Next(4)), "none");
  EXPECT_EQ(Show(m->Prev(3)), "a@1=5");
  EXPECT_EQ(Show(m->Prev(1)), "none");
  EXPECT_EQ(Show(m->Prev(100)), "x@4=6");
  auto last = m->Last();
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->version, 6);
  EXPECT_EQ(*m->Size(), 3);

  // Listing in index order, from the start or after an index.
  EXPECT_EQ(List(*m), (std::vector<std::string>{"a@1=5", "c@3=3", "x@4=6"}));
  IndexedListOptions paged = AfterIndex(1);
  paged.page_size = 1;
  EXPECT_EQ(List(*m, paged), (std::vector<std::string>{"c@3=3", "x@4=6"}));
  EXPECT_TRUE(List(*m, AfterIndex(4)).empty());

  // A key put back comes at the end with a new index.
  EXPECT_EQ(*m->Put("b", "again"), 10);
  EXPECT_EQ(Show(m->Last()), "b@6=again");

  // Clear removes everything at one revision; indexes are not reused.
  EXPECT_EQ(*m->Clear(), 11);
  EXPECT_EQ(*m->Size(), 0);
  EXPECT_EQ(Show(m->First()), "none");
  EXPECT_EQ(*m->Clear(), 0);  // nothing to clear: no revision
  EXPECT_EQ(*m->Put("a", "new"), 12);
  EXPECT_EQ(Show(m->First()), "a@7=new");
}

TEST_F(IndexedMapIntegration, BadInputAndTypeConflicts) {
  auto m = GetIndexedMap<std::string, std::string>(client(), "bad");
  ASSERT_TRUE(m.ok()) << m.status();
  auto at = m->At(-1);
  EXPECT_EQ(at.status().code(), absl::StatusCode::kInvalidArgument) << at.status();
  EXPECT_NE(at.status().message().find("index is -1"), std::string::npos) << at.status();
  EXPECT_EQ(m->Prev(-5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Put("", "v").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Put(std::string(5000, 'k'), "v").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Put("k", "v", IfVersion(-1)).status().code(), absl::StatusCode::kInvalidArgument);
  // Options the write does not take fail without a round trip.
  auto fenced = m->Put("k", "v", WriteOptions().IfFence("lock", 3));
  EXPECT_EQ(fenced.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fenced.status().message(), "indexed map \"bad\": Put does not take IfFence");
  EXPECT_EQ(m->Insert("k", "v", IfVersion(3)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Put("k", "v", WithEphemeral()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m->Remove("k", WithTTL(seconds(1))).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*m->Size(), 0);

  auto as_map = GetMap<std::string, std::string>(client(), "bad");
  EXPECT_EQ(as_map.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(as_map.status().message(), "\"bad\" is an indexed map, not a map");
  ASSERT_TRUE(GetCounter(client(), "count").ok());
  auto as_indexed = GetIndexedMap<std::string, std::string>(client(), "count");
  EXPECT_EQ(as_indexed.status().message(), "\"count\" is a counter, not an indexed map");

  // Stored bytes a codec cannot decode name the map and the key.
  ASSERT_TRUE(m->Put("short", "abc").ok());
  auto ints = GetIndexedMap<std::string, int64_t>(client(), "bad");
  ASSERT_TRUE(ints.ok());
  auto got = ints->Get("short");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("(indexed map \"bad\", key \"short\")"), std::string::npos)
      << got.status();
}

TEST_F(IndexedMapIntegration, AsyncFormsAndIntegerKeys) {
  auto m = GetIndexedMap<int64_t, int64_t>(client(), "async");
  ASSERT_TRUE(m.ok()) << m.status();
  std::vector<Future<Version>> puts;
  for (int64_t i = 0; i < 50; ++i) puts.push_back(m->PutAsync(100 - i, i * i));
  Version previous = 0;
  for (auto& p : puts) {
    auto v = p.get();
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_GT(*v, previous);  // one stream, written in order
    previous = *v;
  }
  // Index order is insertion order, not key order.
  auto first = m->FirstAsync().get();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ(**first, (IntEntry{1, 100, 0, previous - 49}));
  auto at = m->AtAsync(50).get();
  ASSERT_TRUE(at.ok() && at->has_value());
  EXPECT_EQ((*at)->key, 51);
  EXPECT_EQ((*at)->value, 49 * 49);
  EXPECT_EQ((*m->NextAsync(10).get())->index, 11);
  EXPECT_EQ((*m->PrevAsync(10).get())->index, 9);
  EXPECT_EQ((*m->LastAsync().get())->key, 51);
  EXPECT_EQ((*m->GetAsync(90).get())->index, 11);
  EXPECT_EQ(*m->SizeAsync().get(), 50);
  EXPECT_TRUE(m->RemoveAsync(90).get().ok());
  EXPECT_TRUE(absl::IsAlreadyExists(m->InsertAsync(91, 0).get().status()));
  EXPECT_EQ((*m->NextAsync(10).get())->index, 12);
  EXPECT_GT(*m->ClearAsync().get(), previous);
  EXPECT_FALSE(m->FirstAsync().get()->has_value());
}

// Many threads insert distinct keys at once: every key gets its own index,
// the indexes are exactly 1..n, and index order is the order of the
// insertions' revisions. A listing of any size pages through them in order.
TEST_F(IndexedMapIntegration, ConcurrentInsertsGetUniqueIndexesInRevisionOrder) {
  constexpr int kThreads = 16;
  const int kPerThread = Scaled(1250);
  auto m = GetIndexedMap<std::string, int64_t>(client(), "concurrent");
  ASSERT_TRUE(m.ok()) << m.status();
  std::mutex mu;
  std::map<Version, std::string> by_version;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::pair<Version, std::string>> mine;
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = absl::StrFormat("t%02d/%05d", t, i);
        auto v = m->Insert(key, i);
        ASSERT_TRUE(v.ok()) << v.status();
        mine.emplace_back(*v, std::move(key));
      }
      std::lock_guard<std::mutex> l(mu);
      by_version.insert(mine.begin(), mine.end());
    });
  }
  for (auto& th : threads) th.join();
  const int total = kThreads * kPerThread;
  ASSERT_EQ(by_version.size(), static_cast<size_t>(total));
  ASSERT_EQ(*m->Size(), total);

  IndexedListOptions paged;
  paged.page_size = 333;
  int64_t expect_index = 1;
  auto in_order = by_version.begin();
  for (const auto& e : m->Entries(paged)) {
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_EQ(e->index, expect_index);
    ASSERT_EQ(e->version, in_order->first);
    ASSERT_EQ(e->key, in_order->second);
    ++expect_index;
    ++in_order;
  }
  EXPECT_EQ(expect_index, total + 1);
}

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
TEST_F(IndexedMapIntegration, ThreadHistoryIsLinearizable) {
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
TEST_F(IndexedMapIntegration, MergedProcessHistoryIsLinearizable) {
  constexpr int kChildren = 3;
  constexpr int kThreads = 2;
  constexpr int kOps = 300;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe");
  const std::string dir = MakeTempDir("indexed-map-processes");
  const std::string go = dir + "/go";
  auto m = GetIndexedMap<int64_t, int64_t>(client(), "lin-processes");
  ASSERT_TRUE(m.ok()) << m.status();

  std::vector<pid_t> children;
  std::vector<std::string> logs;
  for (int i = 0; i < kChildren; ++i) {
    logs.push_back(absl::StrCat(dir, "/child-", i, ".log"));
    auto pid =
        Spawn({"/usr/bin/env",
               absl::StrCat(kChildEnv, "=", broker().endpoint(), " ", 100 + i, " ", kOps, " ", go),
               self, "--gtest_filter=IndexedMapChild.RecordsItsHistory"},
              logs.back());
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

// ---- Watches ----------------------------------------------------------------

std::optional<StringEvent> NextEvent(Channel<StringEvent>& ch) {
  auto e = ch.Receive(seconds(20));
  EXPECT_TRUE(e.has_value()) << "no event within 20 s";
  return e;
}

// "type key@index=value v<version>" of an event's entry or previous entry.
std::string Describe(const StringEvent& e) {
  const char* type = e.type == EventType::kInserted  ? "inserted"
                     : e.type == EventType::kUpdated ? "updated"
                     : e.type == EventType::kRemoved ? "removed"
                                                     : "other";
  std::string out = absl::StrCat(type, " @", e.revision);
  if (e.entry) absl::StrAppend(&out, " ", Show(e.entry), " v", e.entry->version);
  if (e.previous) absl::StrAppend(&out, " was ", Show(e.previous), " v", e.previous->version);
  return out;
}

TEST_F(IndexedMapIntegration, WatchDeliversEveryChangeWithIndexesInOrder) {
  auto m = GetIndexedMap<std::string, std::string>(client(), "watched");
  ASSERT_TRUE(m.ok()) << m.status();
  auto all = m->Watch();
  ASSERT_TRUE(all.ok()) << all.status();
  auto jobs = m->Watch(WithPrefix("job/"));
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  auto one = m->Watch("job/2");
  ASSERT_TRUE(one.ok()) << one.status();

  const Version v1 = *m->Put("job/1", "a");
  const Version v2 = *m->Put("other", "b");
  const Version v3 = *m->Put("job/2", "c");
  const Version v4 = *m->Put("job/1", "d");
  const Version v5 = *m->Remove("job/2");
  const Version v6 = *m->Clear();
  std::vector<std::string> expected_all = {
      absl::StrCat("inserted @", v1, " job/1@1=a v", v1),
      absl::StrCat("inserted @", v2, " other@2=b v", v2),
      absl::StrCat("inserted @", v3, " job/2@3=c v", v3),
      absl::StrCat("updated @", v4, " job/1@1=d v", v4, " was job/1@1=a v", v1),
      absl::StrCat("removed @", v5, " was job/2@3=c v", v3),
      absl::StrCat("removed @", v6, " was job/1@1=d v", v4),
      absl::StrCat("removed @", v6, " was other@2=b v", v2),
  };
  for (const std::string& want : expected_all) {
    auto e = NextEvent(*all);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), want);
  }
  for (size_t i : {0, 2, 3, 4, 5}) {
    auto e = NextEvent(*jobs);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), expected_all[i]);
  }
  for (size_t i : {2, 4}) {
    auto e = NextEvent(*one);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), expected_all[i]);
  }
  EXPECT_FALSE(jobs->TryReceive().has_value());
  EXPECT_FALSE(one->TryReceive().has_value());

  // Resuming from a revision delivers everything from there on.
  auto resumed = m->Watch(WithStartVersion(v4));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  for (size_t i = 3; i < expected_all.size(); ++i) {
    auto e = NextEvent(*resumed);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), expected_all[i]);
  }
}

TEST_F(IndexedMapIntegration, ReplaySnapshotListsEntriesInIndexOrder) {
  auto m = GetIndexedMap<std::string, std::string>(client(), "replayed");
  ASSERT_TRUE(m.ok()) << m.status();
  const Version z = *m->Put("job/z", "1");
  ASSERT_TRUE(m->Put("job/y", "2").ok());
  const Version x = *m->Put("x", "3");
  const Version z2 = *m->Put("job/z", "4");  // keeps index 1
  const Version removed = *m->Remove("job/y");
  const Version a = *m->Put("job/a", "5");
  ASSERT_GT(z2, z);

  auto replay = m->Watch(WithReplay());
  ASSERT_TRUE(replay.ok()) << replay.status();
  for (const std::string& want : {absl::StrCat("inserted @", a, " job/z@1=4 v", z2),
                                  absl::StrCat("inserted @", a, " x@3=3 v", x),
                                  absl::StrCat("inserted @", a, " job/a@4=5 v", a)}) {
    auto e = NextEvent(*replay);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), want);
  }
  WatchOptions prefixed = WithReplay();
  prefixed.prefix = "job/";
  auto jobs = m->Watch(prefixed);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  for (const std::string& want : {absl::StrCat("inserted @", a, " job/z@1=4 v", z2),
                                  absl::StrCat("inserted @", a, " job/a@4=5 v", a)}) {
    auto e = NextEvent(*jobs);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), want);
  }
  // Then live changes.
  const Version b = *m->Put("job/b", "6");
  for (Channel<StringEvent>* ch : {&*replay, &*jobs}) {
    auto e = NextEvent(*ch);
    ASSERT_TRUE(e);
    EXPECT_EQ(Describe(*e), absl::StrCat("inserted @", b, " job/b@5=6 v", b));
  }
  EXPECT_GT(b, removed);
}

// ---- Durability ---------------------------------------------------------------

class IndexedMapOnDisk : public BrokerTest {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    dir_ = MakeTempDir("indexed-map-disk");
    BrokerProcess::Options o;
    o.args = {"--store", "disk", "--data-dir", dir_, "--snapshot-records", "5"};
    return o;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

// The broker restarts from a snapshot plus its log: entries keep their
// indexes, and the indexes of removed and cleared keys stay retired.
TEST_F(IndexedMapOnDisk, IndexesSurviveARestartAndStayRetired) {
  auto m = GetIndexedMap<std::string, std::string>(client(), "durable");
  ASSERT_TRUE(m.ok()) << m.status();
  for (int i = 1; i <= 12; ++i) ASSERT_TRUE(m->Put(absl::StrCat("k", i), "v").ok());
  ASSERT_TRUE(m->Remove("k12").ok());  // index 12 retired
  ASSERT_TRUE(m->Remove("k1").ok());
  const std::vector<std::string> before = List(*m);
  ASSERT_EQ(before.size(), 10u);

  ASSERT_EQ(broker().Stop(), 0);
  ASSERT_TRUE(broker().Restart().ok());
  EXPECT_EQ(List(*m, WithTimeout(seconds(15))), before);
  EXPECT_EQ(Show(m->First()), "k2@2=v");
  ASSERT_TRUE(m->Put("k1", "back").ok());
  EXPECT_EQ(Show(m->Last()), "k1@13=back");

  ASSERT_TRUE(m->Clear().ok());
  ASSERT_EQ(broker().Stop(), 0);
  ASSERT_TRUE(broker().Restart().ok());
  ASSERT_TRUE(m->Put("k2", "new", WithTimeout(seconds(15))).ok());
  EXPECT_EQ(Show(m->First()), "k2@14=new");
  EXPECT_EQ(*m->Size(), 1);
}

}  // namespace
}  // namespace atomix::testing
