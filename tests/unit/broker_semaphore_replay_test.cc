// The semaphore inside the engine is a pure function of the input records:
// a random workload of sessions acquiring (waiting, trying, timing out),
// releasing by count and by fence, an admin changing the count, fenced map
// writes, cancels, origins going away, ticks and time jumps that expire
// sessions is recorded, then replayed into a fresh engine, and also cut at
// several points, saved to an engine snapshot, loaded into a fresh engine and
// continued. Every answer, completion and watch event and the final digest
// must be equal. No network, no clock.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/engine/engine.h"
#include "broker-sim/src/testing/requests.h"
#include "broker-sim/src/testing/transcript.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using atomix::log::v1::InputRecord;
using testing::MakeRequest;
using testing::ParseRequest;

constexpr uint64_t kSessionBase = 7000;
constexpr int kSessions = 6;

using testing::Transcript;

// Records a random semaphore workload, one serialized input record per step.
class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed) {}

  std::vector<std::string> Record(int steps, std::string& transcript) {
    Transcript t;
    Engine engine(Limits{}, Engine::Options{.session_id_base = kSessionBase}, &t);
    auto emit = [&](InputRecord& r) {
      r.set_now_us(now_us_);
      records_.push_back(r.SerializeAsString());
      RecordOutput out;
      engine.Apply(r, out);
      t.Output(out);
      return out;
    };
    for (int slot = 0; slot < kSessions; ++slot) Open(slot, emit);
    InputRecord init;
    *init.mutable_batch()->add_requests() =
        MakeRequest(v1::SEMAPHORE, "s", "semaphore { init { permits: 4 } }", next_id_++);
    emit(init);
    for (int step = 0; step < steps; ++step) {
      now_us_ += 1000 * Pick(150);
      InputRecord r;
      const int kind = Pick(100);
      std::vector<int> slots;
      if (kind < 75) {
        auto* batch = r.mutable_batch();
        batch->set_origin(1 + Pick(5));
        for (int i = 0, n = 1 + Pick(3); i < n; ++i) {
          const int slot = Pick(kSessions);
          v1::Request q = Operation(slot);
          q.set_id(next_id_++);
          q.set_session_id(session_[slot]);
          if (!q.has_cancel() && Pick(3) != 0) q.set_sequence(++sequence_[slot]);
          *batch->add_requests() = q;
          slots.push_back(slot);
        }
      } else if (kind < 92) {
        r.mutable_tick();
        if (Pick(20) == 0) now_us_ += 4'000'000;  // past every TTL
      } else if (kind < 99) {
        r.mutable_cancel_origin()->set_origin(1 + Pick(5));
      } else {
        r.mutable_expire_all();
      }
      RecordOutput out = emit(r);
      for (size_t i = 0; i < out.responses.size(); ++i) {
        const v1::Response& a = out.responses[i];
        if (a.has_semaphore() && a.semaphore().acquired())
          fences_.push_back(a.semaphore().version());
        if (i < slots.size() && a.error().code() == 10 &&
            a.error().message().find("closed or expired") != std::string::npos) {
          Open(slots[i], emit);
        }
      }
      for (const Completion& c : out.result.completions) {
        if (c.response.semaphore().acquired()) fences_.push_back(c.response.semaphore().version());
      }
    }
    transcript = t.text();
    return records_;
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  int64_t RecentFence() {
    return fences_.empty() ? 1
                           : fences_[fences_.size() - 1 - Pick(std::min<int>(5, fences_.size()))];
  }

  template <class Emit>
  void Open(int slot, Emit& emit) {
    InputRecord r;
    v1::Request* open = r.mutable_batch()->add_requests();
    *open = ParseRequest("session { open { ttl_ms: 3000 } }");
    open->set_id(next_id_++);
    r.mutable_batch()->set_origin(1);
    session_[slot] = emit(r).responses[0].session().session_id();
    sequence_[slot] = 0;
  }

  v1::Request Operation(int slot) {
    switch (Pick(12)) {
      case 0:
      case 1:
      case 2: {
        v1::Request q =
            MakeRequest(v1::SEMAPHORE, "s",
                        absl::StrCat("semaphore { acquire { permits: ", 1 + Pick(3),
                                     " try_only: ", Pick(4) == 0 ? "true" : "false", " } }"));
        q.set_timeout_ms(Pick(3) == 0 ? 0 : 50 + Pick(1500));
        return q;
      }
      case 3:
      case 4:
        return MakeRequest(v1::SEMAPHORE, "s",
                           absl::StrCat("semaphore { release { permits: ", Pick(3), " } }"));
      case 5:
        return MakeRequest(v1::SEMAPHORE, "s",
                           absl::StrCat("semaphore { release { permits: ", Pick(2),
                                        " if_version: ", RecentFence(), " } }"));
      case 6:
        return MakeRequest(
            v1::SEMAPHORE, "s",
            absl::StrCat("semaphore { set_permits { permits: ", 1 + Pick(6), " } }"));
      case 7:
        return MakeRequest(v1::SEMAPHORE, "s",
                           Pick(2) ? "semaphore { get {} }" : "semaphore { holders { limit: 2 } }");
      case 8:
        return MakeRequest(
            v1::MAP, "m",
            absl::StrCat("map { put { key: \"k\" value: \"", slot,
                         "\" if_fence { lock: \"s\" version: ", RecentFence(), " } } }"));
      case 9:
        return ParseRequest(absl::StrCat(
            "cancel { sequence: ", 1 + Pick(static_cast<int>(sequence_[slot]) + 1), " }"));
      default:
        return ParseRequest("session { keep_alive {} }");
    }
  }

  std::mt19937_64 rng_;
  std::vector<std::string> records_;
  std::vector<int64_t> fences_;
  int64_t now_us_ = 1'700'000'000'000'000;
  uint64_t next_id_ = 1;
  uint64_t session_[kSessions] = {};
  uint64_t sequence_[kSessions] = {};
};

void Apply(Engine& engine, Transcript& transcript, const std::vector<std::string>& records,
           size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    InputRecord record;
    ASSERT_TRUE(record.ParseFromString(records[i]));
    RecordOutput out;
    engine.Apply(record, out);
    transcript.Output(out);
  }
}

TEST(BrokerSemaphoreReplay, TheSameRecordsGiveTheSameAnswersEventsAndState) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    std::string recorded;
    const std::vector<std::string> records = Workload(seed).Record(3000, recorded);
    for (const char* seen : {"deferred", "acquired: true", "error { code: 4 message",  // timed out
                             "ended while waiting", "its count was set to", "REMOVED", "UPDATED",
                             "no longer holds it", "available: -"}) {
      EXPECT_NE(recorded.find(seen), std::string::npos) << "seed " << seed << ": no " << seen;
    }
    Transcript replayed;
    Engine engine(Limits{}, Engine::Options{.session_id_base = kSessionBase}, &replayed);
    Apply(engine, replayed, records, 0, records.size());
    EXPECT_TRUE(recorded == replayed.text()) << "seed " << seed;
  }
}

TEST(BrokerSemaphoreReplay, ASnapshotMidWaitGoesOnExactlyAsTheEngine) {
  std::string recorded;
  const std::vector<std::string> records = Workload(5).Record(2000, recorded);
  int cuts_with_waiters = 0;
  for (size_t cut : {size_t{50}, size_t{400}, size_t{900}, size_t{1300}, size_t{1800}}) {
    Transcript original_transcript;
    Engine original(Limits{}, Engine::Options{.session_id_base = kSessionBase},
                    &original_transcript);
    Apply(original, original_transcript, records, 0, cut);
    atomix::log::v1::EngineSnapshot snapshot;
    original.Save(snapshot);
    for (const auto& p : snapshot.primitives()) {
      if (p.has_semaphore() && p.semaphore().waiters_size() > 0) ++cuts_with_waiters;
    }
    atomix::log::v1::EngineSnapshot parsed;
    ASSERT_TRUE(parsed.ParseFromString(snapshot.SerializeAsString()));
    Transcript loaded_transcript;
    Engine loaded(Limits{}, Engine::Options{}, &loaded_transcript);
    ASSERT_TRUE(loaded.Load(parsed).ok());
    EXPECT_TRUE(loaded.Digest() == original.Digest()) << "cut " << cut;
    const size_t before = original_transcript.text().size();
    Apply(original, original_transcript, records, cut, records.size());
    Apply(loaded, loaded_transcript, records, cut, records.size());
    EXPECT_TRUE(original_transcript.text().substr(before) == loaded_transcript.text())
        << "cut " << cut;
    EXPECT_TRUE(loaded.Digest() == original.Digest()) << "cut " << cut;
  }
  EXPECT_GT(cuts_with_waiters, 0) << "no cut fell while acquires waited";
}

}  // namespace
}  // namespace atomix::broker
