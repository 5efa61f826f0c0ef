// Concurrent histories of Counter and Map operations, recorded against a
// real broker from 8 threads, must be linearizable.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/hash/hash.h"
#include "tests/support/linearizability.h"
#include "tests/support/models.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

constexpr int kThreads = 8;

class Linearizability : public BrokerTest {};

TEST_F(Linearizability, CounterHistory) {
  constexpr int kOpsPerThread = 400;
  std::mutex mu;
  std::vector<CounterOp> history;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto c = GetCounter(client(), "lin-counter");
      ASSERT_TRUE(c.ok()) << c.status();
      std::mt19937 rng(t);
      std::vector<CounterOp> mine;
      int64_t last_seen = 0;
      for (int i = 0; i < kOpsPerThread; ++i) {
        CounterOp op;
        int dice = rng() % 10;
        op.invoke = NowNanos();
        if (dice < 4) {
          op.kind = CounterOp::kAdd;
          op.a = static_cast<int64_t>(rng() % 5) - 2;
          auto r = c->Increment(op.a);
          op.complete = NowNanos();
          ASSERT_TRUE(r.ok()) << r.status();
          op.value = r->value;
          op.version = r->version;
        } else if (dice < 7) {
          op.kind = CounterOp::kGet;
          auto r = c->Get();
          op.complete = NowNanos();
          ASSERT_TRUE(r.ok()) << r.status();
          op.value = *r;
        } else if (dice < 8) {
          op.kind = CounterOp::kSet;
          op.a = static_cast<int64_t>(rng() % 100);
          auto r = c->Set(op.a);
          op.complete = NowNanos();
          ASSERT_TRUE(r.ok()) << r.status();
          op.value = r->value;
          op.version = r->version;
        } else {
          op.kind = CounterOp::kCompareAndSet;
          op.a = last_seen;
          op.b = last_seen + 1;
          auto r = c->CompareAndSet(op.a, op.b);
          op.complete = NowNanos();
          op.code = r.status().code();
          if (r.ok()) {
            op.value = r->value;
            op.version = r->version;
          } else {
            ASSERT_EQ(op.code, absl::StatusCode::kFailedPrecondition) << r.status();
            ASSERT_TRUE(CurrentVersion(r.status()).has_value());
            op.value = *CurrentVersion(r.status());
          }
        }
        last_seen = op.value;
        mine.push_back(op);
      }
      std::lock_guard<std::mutex> l(mu);
      history.insert(history.end(), mine.begin(), mine.end());
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(history.size(), size_t{kThreads * kOpsPerThread});
  EXPECT_TRUE(CheckLinearizable(history, CounterState{}, CounterStep, absl::Hash<CounterState>{}));

  // The same history with one read corrupted must be rejected, which shows
  // the check has teeth on real data.
  for (auto& op : history) {
    if (op.kind == CounterOp::kGet) {
      op.value += 1000;
      break;
    }
  }
  EXPECT_FALSE(CheckLinearizable(history, CounterState{}, CounterStep, absl::Hash<CounterState>{}));
}

TEST_F(Linearizability, MapHistoryPerKey) {
  constexpr int kKeys = 4;
  constexpr int kOpsPerThread = 500;
  std::mutex mu;
  std::map<int, std::vector<KeyOp>> by_key;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto m = GetMap<std::string, int64_t>(client(), "lin-map");
      ASSERT_TRUE(m.ok()) << m.status();
      std::mt19937 rng(100 + t);
      std::map<int, std::vector<KeyOp>> mine;
      std::map<int, int64_t> seen_version;
      for (int i = 0; i < kOpsPerThread; ++i) {
        int k = rng() % kKeys;
        std::string key = "k" + std::to_string(k);
        KeyOp op;
        int dice = rng() % 10;
        op.invoke = NowNanos();
        if (dice < 3) {
          op.kind = KeyOp::kPut;
          op.value = t * 100000 + i;
          auto r = m->Put(key, op.value);
          op.complete = NowNanos();
          ASSERT_TRUE(r.ok()) << r.status();
          op.version = *r;
        } else if (dice < 6) {
          op.kind = KeyOp::kGet;
          auto r = m->Get(key);
          op.complete = NowNanos();
          ASSERT_TRUE(r.ok()) << r.status();
          op.present = r->has_value();
          if (op.present) {
            op.value = (*r)->value;
            op.version = (*r)->version;
            seen_version[k] = op.version;
          }
        } else if (dice < 9) {
          op.kind = KeyOp::kUpdateIfVersion;
          op.value = t * 100000 + i;
          op.if_version = seen_version[k];
          auto r = m->Update(key, op.value, IfVersion(op.if_version));
          op.complete = NowNanos();
          op.code = r.status().code();
          if (r.ok()) {
            op.version = *r;
          } else if (op.code == absl::StatusCode::kFailedPrecondition) {
            ASSERT_TRUE(CurrentVersion(r.status()).has_value()) << r.status();
            op.version = *CurrentVersion(r.status());
          } else {
            ASSERT_EQ(op.code, absl::StatusCode::kNotFound) << r.status();
          }
        } else {
          op.kind = KeyOp::kRemove;
          auto r = m->Remove(key);
          op.complete = NowNanos();
          op.code = r.status().code();
          if (r.ok()) {
            op.version = *r;
          } else {
            ASSERT_EQ(op.code, absl::StatusCode::kNotFound) << r.status();
          }
        }
        mine[k].push_back(op);
      }
      std::lock_guard<std::mutex> l(mu);
      for (auto& [k, ops] : mine) by_key[k].insert(by_key[k].end(), ops.begin(), ops.end());
    });
  }
  for (auto& th : threads) th.join();
  size_t total = 0;
  for (auto& [k, ops] : by_key) {
    total += ops.size();
    EXPECT_TRUE(CheckLinearizable(ops, KeyState{}, KeyStep, absl::Hash<KeyState>{}))
        << "key k" << k << " with " << ops.size() << " operations";
  }
  EXPECT_EQ(total, size_t{kThreads * kOpsPerThread});
}

}  // namespace
}  // namespace atomix::testing
