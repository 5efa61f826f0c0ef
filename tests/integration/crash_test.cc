// Crash test: 64 callers (4 clients with a session each, 16 threads each)
// increment a counter, compare-and-set their own map keys and take a lock,
// while the disk-store broker is SIGKILLed at random moments and restarted,
// kCrashes times. After every restart every acknowledged write is there;
// at the end:
//   - the counter history (across all restarts) is linearizable
//     (tests/support/increment_history.h): no acknowledged increment lost,
//     none applied twice, none out of real-time order;
//   - every map key holds its last acknowledged value, or the one write
//     after it whose outcome was unknown (never anything half applied);
//   - lock fences are unique and rise in real-time order across restarts,
//     and election terms never go back in real-time order.
// Snapshots are taken every 2000 records, so recoveries start from them.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/increment_history.h"
#include "tests/support/scale.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kClients = 4;
constexpr int kThreadsPerClient = 16;
constexpr int kCrashes = 10;

struct Grant {
  int64_t invoke = 0;
  int64_t complete = 0;
  int64_t fence = 0;
};

struct TermSeen {
  int64_t invoke = 0;
  int64_t complete = 0;
  int64_t term = 0;
};

struct KeyHistory {
  int64_t acked = 0;      // last acknowledged value written
  int64_t attempted = 0;  // last value tried
  int failed_cas = 0;     // compare-and-sets refused after an unknown outcome
};

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/atomix-crash-XXXXXX";
    dir_ = mkdtemp(tmpl);
    BrokerProcess::Options o;
    // Snapshots every 2000 records, so kills also land while one is
    // being written, and recoveries start from them.
    o.args = {"--store", "disk", "--data-dir", dir_, "--snapshot-records", "2000",
              "--wal-segment-bytes", "65536"};
    auto b = BrokerProcess::Start(o);
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(*b);
  }
  void TearDown() override {
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(CrashTest, NothingAcknowledgedIsLostAcrossRepeatedSigkills) {
  std::vector<Client> clients;
  for (int c = 0; c < kClients; ++c) {
    ClientOptions o = OptionsFor(*broker_);
    o.session_ttl = seconds(10);
    o.default_call_timeout = seconds(10);
    auto client = Client::Connect(o);
    ASSERT_TRUE(client.ok()) << client.status();
    clients.push_back(*client);
  }
  const int threads = kClients * kThreadsPerClient;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> max_acked{0};
  std::mutex mu;
  std::vector<Increment> increments;
  std::vector<Grant> grants;
  std::vector<TermSeen> terms;
  std::vector<KeyHistory> keys(threads);
  std::atomic<int> errors{0};

  auto caller = [&](int t) {
    const Client& client = clients[t % kClients];
    auto counter = GetCounter(client, "hits");
    auto map = GetMap<std::string, int64_t>(client, "owned");
    auto lock = GetLock(client, "door");
    auto election = GetElection(client, "chair", WithCandidateID(absl::StrCat("t", t)));
    if (!counter.ok() || !map.ok() || !lock.ok() || !election.ok()) {
      ++errors;
      return;
    }
    const std::string key = absl::StrCat("k", t);
    Version version = 0;
    KeyHistory& mine = keys[t];
    int turn = 0;
    while (!stop.load()) {
      switch (t % 4) {
        case 0:
        case 1: {
          Increment op;
          op.invoke = NowNanos();
          auto r = counter->Increment();
          op.complete = NowNanos();
          if (r.ok()) {
            op.value = r->value;
            int64_t seen = max_acked.load();
            while (seen < r->value && !max_acked.compare_exchange_weak(seen, r->value)) {
            }
          }
          std::lock_guard<std::mutex> lock_history(mu);
          increments.push_back(op);
          break;
        }
        case 2: {
          // Compare-and-set on a key only this thread writes.
          const int64_t next = mine.attempted + 1;
          mine.attempted = next;
          auto r = map->Put(key, next, version == 0 ? WriteOptions() : IfVersion(version));
          if (r.ok()) {
            mine.acked = next;
            version = *r;
          } else if (absl::IsFailedPrecondition(r.status())) {
            // Only an earlier write of unknown outcome can have moved it:
            // it must hold exactly that value.
            ++mine.failed_cas;
            auto now = map->Get(key);
            if (now.ok() && now->has_value()) {
              version = (*now)->version;
              mine.acked = (*now)->value;
              if ((*now)->value != next - 1) {
                ADD_FAILURE() << key << " holds " << (*now)->value << " after CAS of " << next;
              }
            }
          }
          break;
        }
        case 3: {
          if (++turn % 2 == 0) {
            // Enter and leave the election: the term seen never goes back.
            TermSeen seen;
            seen.invoke = NowNanos();
            auto term = election->Enter();
            seen.complete = NowNanos();
            if (term.ok()) {
              seen.term = term->term;
              std::lock_guard<std::mutex> lock_history(mu);
              terms.push_back(seen);
            }
            (void)election->Leave();
            break;
          }
          Grant g;
          g.invoke = NowNanos();
          auto fence = lock->Acquire(WithTimeout(seconds(10)));
          g.complete = NowNanos();
          if (fence.ok()) {
            g.fence = fence->version;
            {
              std::lock_guard<std::mutex> lock_history(mu);
              grants.push_back(g);
            }
            (void)lock->Release(IfVersion(*fence));
          }
          break;
        }
      }
    }
  };
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) running.emplace_back(caller, t);

  std::mt19937 rng(2026);
  auto reader = Client::Connect(OptionsFor(*broker_));
  ASSERT_TRUE(reader.ok());
  auto hits = GetCounter(*reader, "hits");
  ASSERT_TRUE(hits.ok());
  for (int crash = 0; crash < kCrashes; ++crash) {
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(150, 500)(rng)));
    const int64_t acked_before = max_acked.load();
    broker_->Kill(SIGKILL);
    ASSERT_TRUE(broker_->Restart().ok()) << "restart " << crash;
    // Every increment acknowledged before the kill survived it.
    auto value = hits->Get(WithTimeout(seconds(10)));
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_GE(*value, acked_before) << "after restart " << crash;
  }
  std::this_thread::sleep_for(milliseconds(300));
  stop = true;
  for (auto& t : running) t.join();
  EXPECT_EQ(errors.load(), 0);

  // The counter, across every restart.
  auto final_value = hits->Get(WithTimeout(seconds(10)));
  ASSERT_TRUE(final_value.ok());
  size_t acked = 0;
  for (const Increment& op : increments) acked += op.value.has_value();
  EXPECT_GT(acked, 100u);
  EXPECT_EQ(CheckIncrements(increments, 0, *final_value), "");
  std::printf("%zu increments (%zu acknowledged), %zu lock grants, %zu election terms, "
              "%d crashes\n",
              increments.size(), acked, grants.size(), terms.size(), kCrashes);

  // Each key: its last acknowledged value, or the one after it.
  auto owned = GetMap<std::string, int64_t>(*reader, "owned");
  ASSERT_TRUE(owned.ok());
  for (int t = 2; t < threads; t += 4) {
    auto v = owned->Get(absl::StrCat("k", t), WithTimeout(seconds(10)));
    ASSERT_TRUE(v.ok()) << v.status();
    if (keys[t].acked == 0 && !v->has_value()) continue;
    ASSERT_TRUE(v->has_value()) << "k" << t << " lost acknowledged value " << keys[t].acked;
    EXPECT_GE((*v)->value, keys[t].acked) << "k" << t;
    EXPECT_LE((*v)->value, keys[t].attempted) << "k" << t;
  }

  // Terms: a later Enter (in real time) never sees an older term.
  EXPECT_GT(terms.size(), 10u);
  for (const TermSeen& a : terms) {
    for (const TermSeen& b : terms) {
      if (a.complete < b.invoke) EXPECT_LE(a.term, b.term);
    }
  }

  // Fences: unique, and later grants (in real time) have higher ones.
  std::sort(grants.begin(), grants.end(),
            [](const Grant& a, const Grant& b) { return a.complete < b.complete; });
  EXPECT_GT(grants.size(), 10u);
  for (size_t i = 0; i < grants.size(); ++i) {
    for (size_t j = i + 1; j < grants.size(); ++j) {
      EXPECT_NE(grants[i].fence, grants[j].fence);
      if (grants[i].complete < grants[j].invoke) {
        EXPECT_LT(grants[i].fence, grants[j].fence);
      }
    }
  }
}

}  // namespace
}  // namespace atomix::testing
