// The checker must accept linearizable histories and, just as important,
// reject histories that are not.
#include "tests/support/linearizability.h"

#include <gtest/gtest.h>

#include "absl/hash/hash.h"
#include "tests/support/increment_history.h"
#include "tests/support/models.h"

namespace atomix::testing {
namespace {

using Hash = absl::Hash<CounterState>;

CounterOp Add(int64_t t0, int64_t t1, int64_t delta, int64_t value, int64_t version) {
  CounterOp op;
  op.invoke = t0;
  op.complete = t1;
  op.kind = CounterOp::kAdd;
  op.a = delta;
  op.value = value;
  op.version = version;
  return op;
}

CounterOp Get(int64_t t0, int64_t t1, int64_t value) {
  CounterOp op;
  op.invoke = t0;
  op.complete = t1;
  op.kind = CounterOp::kGet;
  op.value = value;
  return op;
}

TEST(Linearizability, AcceptsSequentialHistory) {
  std::vector<CounterOp> h = {Add(0, 1, 1, 1, 1), Add(2, 3, 1, 2, 2), Get(4, 5, 2)};
  EXPECT_TRUE(CheckLinearizable(h, CounterState{}, CounterStep, Hash{}));
}

TEST(Linearizability, AcceptsConcurrentReordering) {
  // Two overlapping increments may take effect in either order.
  std::vector<CounterOp> h = {Add(0, 10, 1, 2, 2), Add(1, 9, 1, 1, 1), Get(11, 12, 2)};
  EXPECT_TRUE(CheckLinearizable(h, CounterState{}, CounterStep, Hash{}));
}

TEST(Linearizability, RejectsStaleRead) {
  // The increment finished before the read began, yet the read saw 0.
  std::vector<CounterOp> h = {Add(0, 1, 1, 1, 1), Get(2, 3, 0)};
  EXPECT_FALSE(CheckLinearizable(h, CounterState{}, CounterStep, Hash{}));
}

TEST(Linearizability, RejectsLostUpdate) {
  // Two non-overlapping increments both claim to have produced 1.
  std::vector<CounterOp> h = {Add(0, 1, 1, 1, 1), Add(2, 3, 1, 1, 2)};
  EXPECT_FALSE(CheckLinearizable(h, CounterState{}, CounterStep, Hash{}));
}

TEST(Linearizability, RejectsVersionGoingBackwards) {
  std::vector<CounterOp> h = {Add(0, 1, 1, 1, 5), Add(2, 3, 1, 2, 4)};
  EXPECT_FALSE(CheckLinearizable(h, CounterState{}, CounterStep, Hash{}));
}

TEST(Linearizability, RejectsReadOfValueNeverWrittenAtThatTime) {
  // Overlapping reads may see 0 or 1, but a read after a read of 1 cannot
  // see 0 again.
  std::vector<CounterOp> h = {Add(0, 10, 1, 1, 1), Get(1, 2, 1), Get(3, 4, 0)};
  EXPECT_FALSE(CheckLinearizable(h, CounterState{}, CounterStep, Hash{}));
}

TEST(Linearizability, KeyModelChecksIfVersion) {
  using absl::StatusCode;
  KeyOp put;
  put.invoke = 0;
  put.complete = 1;
  put.kind = KeyOp::kPut;
  put.value = 7;
  put.version = 3;
  KeyOp upd;
  upd.invoke = 2;
  upd.complete = 3;
  upd.kind = KeyOp::kUpdateIfVersion;
  upd.value = 8;
  upd.if_version = 2;  // stale
  upd.code = StatusCode::kFailedPrecondition;
  upd.version = 3;
  std::vector<KeyOp> ok = {put, upd};
  EXPECT_TRUE(CheckLinearizable(ok, KeyState{}, KeyStep, absl::Hash<KeyState>{}));
  upd.code = StatusCode::kOk;  // a stale update must not succeed
  upd.version = 4;
  std::vector<KeyOp> bad = {put, upd};
  EXPECT_FALSE(CheckLinearizable(bad, KeyState{}, KeyStep, absl::Hash<KeyState>{}));
}

TEST(Linearizability, HandlesManyConcurrentOperations) {
  // 8 "threads" x 50 increments, all overlapping in windows of 8: values
  // 1..400 handed out in order of completion.
  std::vector<CounterOp> h;
  int64_t v = 0;
  for (int round = 0; round < 50; ++round) {
    for (int t = 0; t < 8; ++t) {
      ++v;
      h.push_back(Add(round * 100, round * 100 + 50 + t, 1, v, v));
    }
  }
  EXPECT_TRUE(CheckLinearizable(h, CounterState{}, CounterStep, Hash{}));
}

}  // namespace
}  // namespace atomix::testing

// The increment checker used by the crash test, against planted violations.
namespace atomix::testing {
namespace {

TEST(IncrementHistory, AcceptsOverlappingAndUnknownIncrements) {
  // 1 and 2 overlap (either order); an unknown one took 3; 4 came last.
  std::vector<Increment> h = {
      {0, 10, 2}, {5, 15, 1}, {20, 30, std::nullopt}, {40, 50, 4}};
  EXPECT_EQ(CheckIncrements(h, 0, 4), "");
  // The unknown one was not applied.
  EXPECT_EQ(CheckIncrements({{0, 10, 1}, {20, 30, std::nullopt}, {40, 50, 2}}, 0, 2), "");
}

TEST(IncrementHistory, RejectsADuplicateValue) {
  EXPECT_EQ(CheckIncrements({{0, 10, 1}, {5, 15, 1}}, 0, 2), "value 1 was returned twice");
}

TEST(IncrementHistory, RejectsALostIncrement) {
  EXPECT_EQ(CheckIncrements({{0, 10, 1}, {20, 30, 2}}, 0, 1),
            "value 2 is outside (0, 1]");
  EXPECT_EQ(CheckIncrements({{0, 10, 5}, {20, 30, 6}, {40, 50, 7}}, 4, 6),
            "value 7 is outside (4, 6]");
}

TEST(IncrementHistory, RejectsAnIncrementAppliedTwice) {
  EXPECT_EQ(CheckIncrements({{0, 10, 1}, {20, 30, 3}}, 0, 3),
            "the counter moved by 3 but only 2 acknowledged and 0 unknown increments were made");
}

TEST(IncrementHistory, RejectsAStaleValueAfterAnEarlierOneReturned) {
  EXPECT_EQ(CheckIncrements({{0, 10, 2}, {20, 30, 1}}, 0, 2),
            "value 1 was returned by an increment that began after one that had returned 2");
}

}  // namespace
}  // namespace atomix::testing
