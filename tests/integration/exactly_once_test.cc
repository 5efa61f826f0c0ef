// Exactly-once: with the broker dropping 10% of its answers, 10,000
// increments from 8 threads are each applied once. Lost answers are recovered
// by resending with the same (session, sequence); the broker answers the
// repeat with its first answer.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

class ExactlyOnce : public BrokerTest {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    BrokerProcess::Options o;
    o.args = {"--fault-drop-responses", "0.1", "--fault-seed", "42"};
    return o;
  }
};

TEST_F(ExactlyOnce, IncrementsWithDroppedAnswersAreAppliedOnce) {
  constexpr int kThreads = 8;
  constexpr int kTotal = 10000;
  auto c = GetCounter(client(), "once", WithTimeout(std::chrono::seconds(30)));
  ASSERT_TRUE(c.ok()) << c.status();
  std::mutex mu;
  std::vector<int64_t> values;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::vector<int64_t> mine;
      for (int i = 0; i < kTotal / kThreads; ++i) {
        auto r = c->Increment(1, WithTimeout(std::chrono::seconds(30)));
        ASSERT_TRUE(r.ok()) << r.status();
        mine.push_back(r->value);
      }
      std::lock_guard<std::mutex> l(mu);
      values.insert(values.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();

  auto final_value = c->Get(WithTimeout(std::chrono::seconds(30)));
  ASSERT_TRUE(final_value.ok()) << final_value.status();
  EXPECT_EQ(*final_value, kTotal);
  // Every caller saw the answer of its own single application.
  std::sort(values.begin(), values.end());
  ASSERT_EQ(values.size(), size_t{kTotal});
  for (int i = 0; i < kTotal; ++i) ASSERT_EQ(values[i], i + 1);
}

}  // namespace
}  // namespace atomix::testing
