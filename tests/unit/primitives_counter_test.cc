// Counter over an in-process broker core.
#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "atomix/counter.h"
#include "atomix/map.h"
#include "atomix/status.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_client_core.h"
#include "tests/unit/primitives_test_util.h"

namespace atomix {
namespace {

using testing::FakeClientCore;

class CounterTest : public ::testing::Test {
 protected:
  std::shared_ptr<FakeClientCore> core_ = FakeClientCore::Sessionless();
};

TEST_F(CounterTest, OpenSendsOpenRequestAndTakesNoRevision) {
  ASSERT_OK_AND_ASSIGN(Counter c, internal::GetCounter(core_, "jobs"));
  EXPECT_EQ(c.name(), "jobs");
  auto calls = core_->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].request.has_open());
  EXPECT_EQ(calls[0].request.type(), v1::COUNTER);
  EXPECT_EQ(calls[0].request.name(), "jobs");
  EXPECT_TRUE(calls[0].idempotent);
  EXPECT_EQ(core_->revision(), 0);
}

TEST_F(CounterTest, StartsAtZero) {
  ASSERT_OK_AND_ASSIGN(Counter c, internal::GetCounter(core_, "jobs"));
  ASSERT_OK_AND_ASSIGN(int64_t v, c.Get());
  EXPECT_EQ(v, 0);
}

TEST_F(CounterTest, MutationsReturnValueAndRevision) {
  ASSERT_OK_AND_ASSIGN(Counter c, internal::GetCounter(core_, "jobs"));
  ASSERT_OK_AND_ASSIGN(auto r1, c.Increment());
  EXPECT_EQ(r1, (Versioned<int64_t>{1, 1}));
  ASSERT_OK_AND_ASSIGN(auto r2, c.Increment(5));
  EXPECT_EQ(r2, (Versioned<int64_t>{6, 2}));
  ASSERT_OK_AND_ASSIGN(auto r3, c.Decrement());
  EXPECT_EQ(r3, (Versioned<int64_t>{5, 3}));
  ASSERT_OK_AND_ASSIGN(auto r4, c.Decrement(10));
  EXPECT_EQ(r4, (Versioned<int64_t>{-5, 4}));
  ASSERT_OK_AND_ASSIGN(auto r5, c.Increment(-5));
  EXPECT_EQ(r5, (Versioned<int64_t>{-10, 5}));
  ASSERT_OK_AND_ASSIGN(auto r6, c.Set(100));
  EXPECT_EQ(r6, (Versioned<int64_t>{100, 6}));
  ASSERT_OK_AND_ASSIGN(auto r7, c.CompareAndSet(100, 7));
  EXPECT_EQ(r7, (Versioned<int64_t>{7, 7}));
  ASSERT_OK_AND_ASSIGN(int64_t v, c.Get());
  EXPECT_EQ(v, 7);
  EXPECT_EQ(core_->revision(), 7);
}

TEST_F(CounterTest, CompareAndSetMismatchCarriesCurrentValue) {
  ASSERT_OK_AND_ASSIGN(Counter c, internal::GetCounter(core_, "jobs"));
  ASSERT_OK(c.Set(42));
  auto r = c.CompareAndSet(41, 0);
  EXPECT_CODE(r, kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(r.status()), 42);
  EXPECT_EQ(core_->revision(), 1);  // nothing applied
  ASSERT_OK_AND_ASSIGN(int64_t v, c.Get());
  EXPECT_EQ(v, 42);
}

TEST_F(CounterTest, OverflowIsOutOfRangeAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(Counter c, internal::GetCounter(core_, "jobs"));
  ASSERT_OK(c.Set(std::numeric_limits<int64_t>::max()));
  EXPECT_CODE(c.Increment(), kOutOfRange);
  ASSERT_OK(c.Set(std::numeric_limits<int64_t>::min()));
  EXPECT_CODE(c.Decrement(), kOutOfRange);
  EXPECT_EQ(core_->revision(), 2);
  ASSERT_OK_AND_ASSIGN(int64_t v, c.Get());
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
}

TEST_F(CounterTest, DecrementByInt64MinIsRejectedLocally) {
  ASSERT_OK_AND_ASSIGN(Counter c, internal::GetCounter(core_, "jobs"));
  core_->clear_calls();
  EXPECT_CODE(c.Decrement(std::numeric_limits<int64_t>::min()), kInvalidArgument);
  EXPECT_TRUE(core_->calls().empty());
  // The most negative delta that can be negated still works.
  ASSERT_OK_AND_ASSIGN(auto r, c.Decrement(std::numeric_limits<int64_t>::min() + 1));
  EXPECT_EQ(r.value, std::numeric_limits<int64_t>::max());
}

TEST_F(CounterTest, BadNamesFailOnOpen) {
  EXPECT_CODE(internal::GetCounter(core_, ""), kInvalidArgument);
  EXPECT_CODE(internal::GetCounter(core_, std::string(257, 'x')), kInvalidArgument);
  EXPECT_CODE(internal::GetCounter(core_, "bad\xff"), kInvalidArgument);
  EXPECT_OK(internal::GetCounter(core_, std::string(256, 'x')));
}

TEST_F(CounterTest, NameOfAnotherTypeIsFailedPrecondition) {
  ASSERT_OK(internal::GetMap<std::string, std::string>(core_, "shared"));
  auto c = internal::GetCounter(core_, "shared");
  EXPECT_CODE(c, kFailedPrecondition);
  EXPECT_NE(c.status().message().find("map"), absl::string_view::npos) << c.status();
}

TEST_F(CounterTest, ReadsAreIdempotentAndMutationsAreNot) {
  ASSERT_OK_AND_ASSIGN(Counter c, internal::GetCounter(core_, "jobs"));
  core_->clear_calls();
  ASSERT_OK(c.Get());
  ASSERT_OK(c.Set(1));
  ASSERT_OK(c.Increment());
  ASSERT_OK(c.Decrement());
  ASSERT_OK(c.CompareAndSet(1, 2));
  auto calls = core_->calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_TRUE(calls[0].idempotent);
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_FALSE(calls[i].idempotent) << i;
  EXPECT_TRUE(calls[1].request.counter().has_set());
  EXPECT_EQ(calls[2].request.counter().add().delta(), 1);
  EXPECT_EQ(calls[3].request.counter().add().delta(), -1);
  EXPECT_EQ(calls[4].request.counter().compare_and_set().expect(), 1);
  EXPECT_EQ(calls[4].request.counter().compare_and_set().update(), 2);
}

TEST_F(CounterTest, TransportErrorsPassThrough) {
  ASSERT_OK_AND_ASSIGN(Counter c, internal::GetCounter(core_, "jobs"));
  core_->intercept = [](const v1::Request&) -> std::optional<absl::Status> {
    return absl::UnavailableError("broker 127.0.0.1:1 unreachable");
  };
  auto r = c.Increment();
  EXPECT_CODE(r, kUnavailable);
  EXPECT_EQ(r.status().message(), "broker 127.0.0.1:1 unreachable");
  EXPECT_CODE(internal::GetCounter(core_, "other"), kUnavailable);
}

TEST_F(CounterTest, CancelledCall) {
  ASSERT_OK_AND_ASSIGN(Counter c, internal::GetCounter(core_, "jobs"));
  std::stop_source stop;
  stop.request_stop();
  EXPECT_CODE(c.Increment(1, WithCancel(stop.get_token())), kCancelled);
}

TEST_F(CounterTest, ResponseWithoutResultIsInternal) {
  ASSERT_OK_AND_ASSIGN(Counter c, internal::GetCounter(core_, "jobs"));
  core_->tamper = [](const v1::Request&, v1::Response& r) { r.clear_counter(); };
  EXPECT_CODE(c.Get(), kInternal);
}

TEST_F(CounterTest, VersionsAreBrokerRevisionsSharedAcrossPrimitives) {
  ASSERT_OK_AND_ASSIGN(Counter a, internal::GetCounter(core_, "a"));
  ASSERT_OK_AND_ASSIGN(Counter b, internal::GetCounter(core_, "b"));
  ASSERT_OK_AND_ASSIGN(auto ra, a.Increment());
  ASSERT_OK_AND_ASSIGN(auto rb, b.Increment());
  ASSERT_OK_AND_ASSIGN(auto ra2, a.Increment());
  EXPECT_EQ(ra.version, 1);
  EXPECT_EQ(rb.version, 2);
  EXPECT_EQ(ra2.version, 3);
}

TEST_F(CounterTest, CopiesShareStateAcrossThreads) {
  ASSERT_OK_AND_ASSIGN(Counter c, internal::GetCounter(core_, "jobs"));
  core_->set_record_calls(false);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::vector<std::vector<Versioned<int64_t>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([copy = c, &out = results[t]] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = copy.Increment();
        if (r.ok()) out.push_back(*r);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> values, versions;
  for (const auto& rs : results) {
    ASSERT_EQ(rs.size(), static_cast<size_t>(kPerThread));
    for (const auto& r : rs) {
      values.insert(r.value);
      versions.insert(r.version);
    }
  }
  EXPECT_EQ(values.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(*values.rbegin(), kThreads * kPerThread);
  EXPECT_EQ(versions.size(), static_cast<size_t>(kThreads * kPerThread));
  ASSERT_OK_AND_ASSIGN(int64_t v, c.Get());
  EXPECT_EQ(v, kThreads * kPerThread);
}

}  // namespace
}  // namespace atomix
