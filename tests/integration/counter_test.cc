// Counter through the public SDK against a real atomix-broker process.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

class CounterIntegration : public BrokerTest {};

TEST_F(CounterIntegration, OperationsReturnValuesAndRevisions) {
  auto c = GetCounter(client(), "jobs");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c->Get(), 0);

  auto a = c->Increment(5);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->value, 5);
  EXPECT_EQ(a->version, 1);  // the first mutation on a fresh broker

  auto b = c->Decrement(2);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->value, 3);
  EXPECT_EQ(b->version, 2);

  auto s = c->Set(10);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->value, 10);
  EXPECT_EQ(s->version, 3);

  auto miss = c->CompareAndSet(9, 11);
  EXPECT_EQ(miss.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(miss.status()), 10);  // the current value
  auto hit = c->CompareAndSet(10, 11);
  ASSERT_TRUE(hit.ok()) << hit.status();
  EXPECT_EQ(hit->value, 11);
  EXPECT_EQ(hit->version, 4);  // the failed CAS raised nothing
  EXPECT_EQ(*c->Get(), 11);
}

TEST_F(CounterIntegration, RevisionIsSharedAcrossPrimitives) {
  auto a = GetCounter(client(), "a");
  auto b = GetCounter(client(), "b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->Increment()->version, 1);
  EXPECT_EQ(b->Increment()->version, 2);
  EXPECT_EQ(a->Increment()->version, 3);
}

TEST_F(CounterIntegration, OverflowIsRefusedAndChangesNothing) {
  auto c = GetCounter(client(), "big");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->Set(INT64_MAX).ok());
  auto r = c->Increment(1);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange) << r.status();
  EXPECT_EQ(*c->Get(), INT64_MAX);
}

TEST_F(CounterIntegration, ConcurrentIncrementsFromManyThreadsAreEachApplied) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 500;
  auto c = GetCounter(client(), "shared");
  ASSERT_TRUE(c.ok());

  std::mutex mu;
  std::vector<int64_t> values, versions;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      // Each thread uses its own handle, as applications do.
      auto mine = GetCounter(client(), "shared");
      ASSERT_TRUE(mine.ok());
      std::vector<int64_t> v, ver;
      for (int i = 0; i < kPerThread; ++i) {
        auto r = mine->Increment();
        ASSERT_TRUE(r.ok()) << r.status();
        v.push_back(r->value);
        ver.push_back(r->version);
      }
      std::lock_guard<std::mutex> l(mu);
      values.insert(values.end(), v.begin(), v.end());
      versions.insert(versions.end(), ver.begin(), ver.end());
    });
  }
  for (auto& t : threads) t.join();

  // Every increment returned a distinct value 1..N and a distinct version.
  std::sort(values.begin(), values.end());
  std::sort(versions.begin(), versions.end());
  ASSERT_EQ(values.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(values[i], int64_t(i + 1));
  EXPECT_EQ(std::adjacent_find(versions.begin(), versions.end()), versions.end());
  EXPECT_EQ(*c->Get(), kThreads * kPerThread);
}

}  // namespace
}  // namespace atomix::testing
