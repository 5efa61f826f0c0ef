#include "tests/support/mixed_load.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/support/test_client.h"

namespace atomix::testing {

using std::chrono::seconds;

MixedLoad::MixedLoad(std::vector<Client> clients, int threads_per_client)
    : clients_(std::move(clients)),
      threads_(static_cast<int>(clients_.size()) * threads_per_client),
      keys_(threads_) {
  by_client_ = std::make_unique<std::atomic<int64_t>[]>(clients_.size());
  for (int t = 0; t < threads_; ++t) running_.emplace_back([this, t] { Run(t); });
}

void MixedLoad::Stop() {
  stop_ = true;
  for (std::thread& t : running_) t.join();
  running_.clear();
}

void MixedLoad::Run(int t) {
  const size_t c = t % clients_.size();
  const Client& client = clients_[c];
  auto acked = [&] {
    ++acked_;
    ++by_client_[c];
  };
  auto counter = GetCounter(client, "hits");
  auto map = GetMap<std::string, int64_t>(client, "owned");
  auto lock = GetLock(client, "door");
  auto election = GetElection(client, "chair", WithCandidateID(absl::StrCat("t", t)));
  if (!counter.ok() || !map.ok() || !lock.ok() || !election.ok()) {
    ++setup_errors_;
    return;
  }
  const std::string key = absl::StrCat("k", t);
  Version version = 0;
  KeyHistory& mine = keys_[t];
  int turn = 0;
  while (!stop_.load()) {
    switch (t % 4) {
      case 0:
      case 1: {
        Increment op;
        op.invoke = NowNanos();
        auto r = counter->Increment();
        op.complete = NowNanos();
        if (r.ok()) {
          op.value = r->value;
          acked();
          int64_t seen = max_acked_.load();
          while (seen < r->value && !max_acked_.compare_exchange_weak(seen, r->value)) {
          }
        }
        std::lock_guard<std::mutex> lock_history(mu_);
        increments_.push_back(op);
        break;
      }
      case 2: {
        // Compare-and-set on a key only this thread writes.
        const int64_t next = mine.attempted + 1;
        mine.attempted = next;
        auto r = map->Put(key, next, version == 0 ? WriteOptions() : IfVersion(version));
        if (r.ok()) {
          acked();
          mine.acked = next;
          version = *r;
        } else if (absl::IsFailedPrecondition(r.status())) {
          // Only an earlier write of unknown outcome can have moved it: it
          // must hold exactly that value.
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
            acked();
            seen.term = term->term;
            std::lock_guard<std::mutex> lock_history(mu_);
            terms_.push_back(seen);
          }
          (void)election->Leave();
          break;
        }
        Grant g;
        g.invoke = NowNanos();
        auto fence = lock->Acquire(WithTimeout(seconds(10)));
        g.complete = NowNanos();
        if (fence.ok()) {
          acked();
          g.fence = fence->version;
          {
            std::lock_guard<std::mutex> lock_history(mu_);
            grants_.push_back(g);
          }
          (void)lock->Release(IfVersion(*fence));
        }
        break;
      }
    }
  }
}

void MixedLoad::Check(const Client& reader) {
  Stop();
  EXPECT_EQ(setup_errors_.load(), 0);
  auto hits = GetCounter(reader, "hits");
  ASSERT_TRUE(hits.ok());
  auto final_value = hits->Get(WithTimeout(seconds(10)));
  ASSERT_TRUE(final_value.ok()) << final_value.status();
  size_t acked = 0;
  for (const Increment& op : increments_) acked += op.value.has_value();
  EXPECT_GT(acked, 100u);
  EXPECT_EQ(CheckIncrements(increments_, 0, *final_value), "");
  std::printf("%zu increments (%zu acknowledged), %zu lock grants, %zu election terms\n",
              increments_.size(), acked, grants_.size(), terms_.size());

  auto owned = GetMap<std::string, int64_t>(reader, "owned");
  ASSERT_TRUE(owned.ok());
  for (int t = 2; t < threads_; t += 4) {
    auto v = owned->Get(absl::StrCat("k", t), WithTimeout(seconds(10)));
    ASSERT_TRUE(v.ok()) << v.status();
    if (keys_[t].acked == 0 && !v->has_value()) continue;
    ASSERT_TRUE(v->has_value()) << "k" << t << " lost acknowledged value " << keys_[t].acked;
    EXPECT_GE((*v)->value, keys_[t].acked) << "k" << t;
    EXPECT_LE((*v)->value, keys_[t].attempted) << "k" << t;
  }

  EXPECT_GT(terms_.size(), 10u);
  for (const TermSeen& a : terms_) {
    for (const TermSeen& b : terms_) {
      if (a.complete < b.invoke) EXPECT_LE(a.term, b.term);
    }
  }

  std::sort(grants_.begin(), grants_.end(),
            [](const Grant& a, const Grant& b) { return a.complete < b.complete; });
  EXPECT_GT(grants_.size(), 10u);
  for (size_t i = 0; i < grants_.size(); ++i) {
    for (size_t j = i + 1; j < grants_.size(); ++j) {
      EXPECT_NE(grants_[i].fence, grants_[j].fence);
      if (grants_[i].complete < grants_[j].invoke) {
        EXPECT_LT(grants_[i].fence, grants_[j].fence);
      }
    }
  }
}

}  // namespace atomix::testing
