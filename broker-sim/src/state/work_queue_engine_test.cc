// The work queue inside the engine: a random workload of pushes, waiting
// and trying takes with visibility timeouts, acks and releases (right and
// stale fences), cancels, keep-alives, ticks, time jumps that expire
// sessions and expire-all, recorded as input records. Replaying the records
// gives the same answers, events and state; an engine loaded from a
// snapshot taken mid-run (leases, timeouts and waiting takes included) goes
// on exactly as the original; and no item is lost: queued + leased = pushed
// - acked at every step. No network, no clock.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/engine/engine.h"
#include "broker-sim/src/state/work_queue.h"
#include "broker-sim/src/testing/requests.h"
#include "broker-sim/src/testing/transcript.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using atomix::log::v1::InputRecord;
using testing::MakeRequest;
using testing::ParseRequest;

constexpr int kSessions = 4;

using testing::Transcript;

class Recorder {
 public:
  explicit Recorder(uint64_t seed)
      : rng_(seed), engine_(Limits{}, Engine::Options{}, &transcript_) {}

  void Run(int steps) {
    for (int slot = 0; slot < kSessions; ++slot) Open(slot);
    for (int step = 0; step < steps; ++step) Step(step);
  }
  const std::vector<std::string>& records() const { return records_; }
  int64_t pushed() const { return pushed_; }
  int64_t acked() const { return acked_; }
  int64_t completed_takes() const { return completed_takes_; }
  Engine& engine() { return engine_; }

 private:
  int Pick(int n) {
    return static_cast<int>(rng_() % static_cast<uint64_t>(n));
  }

  RecordOutput Emit(InputRecord& r) {
    r.set_now_us(now_us_);
    records_.push_back(r.SerializeAsString());
    RecordOutput out;
    engine_.Apply(r, out);
    transcript_.Output(out);
    for (size_t i = 0; i < out.responses.size(); ++i) {
      const v1::Response& resp = out.responses[i];
      Note(resp);
      if (r.has_batch() && !resp.has_error() &&
          r.batch().requests(static_cast<int>(i)).work_queue().has_ack()) {
        ++acked_;
      }
    }
    for (const Completion& c : out.result.completions) {
      Note(c.response);
      if (c.response.work_queue().taken()) ++completed_takes_;
    }
    // Nothing lost, at every step.
    const auto* q = dynamic_cast<const WorkQueueState*>(engine_.Find("q"));
    if (q != nullptr) {
      EXPECT_EQ(q->queued() + q->leased(), pushed_ - acked_)
          << "after record " << records_.size();
    }
    return out;
  }

  void Note(const v1::Response& r) {
    if (!r.has_work_queue() || r.has_error()) return;
    const v1::WorkQueueResponse& w = r.work_queue();
    pushed_ += w.ids_size();
    if (w.taken()) leases_.push_back({w.item().id(), w.item().fence()});
  }

  void Open(int slot) {
    InputRecord r;
    v1::Request* open = r.mutable_batch()->add_requests();
    *open = ParseRequest("session { open { ttl_ms: 2000 } }");
    open->set_id(next_id_++);
    r.mutable_batch()->set_origin(1);
    session_[slot] = Emit(r).responses[0].session().session_id();
  }

  v1::Request Operation() {
    switch (Pick(11)) {
      case 0:
        return MakeRequest(
            v1::WORK_QUEUE, "q",
            absl::StrCat("work_queue { push { items: \"a\"",
                         Pick(2) ? " items: \"b\"" : "", " } }"));
      case 1:
      case 2:
      case 3: {
        v1::Request take =
            MakeRequest(v1::WORK_QUEUE, "q",
                        absl::StrCat("work_queue { take { try_only: ",
                                     Pick(4) == 0 ? "true" : "false",
                                     " visibility_timeout_ms: ",
                                     Pick(2) ? 0 : 100 + Pick(2000), " } }"));
        take.set_timeout_ms(Pick(3) == 0 ? 0 : 50 + Pick(1000));
        return take;
      }
      case 4:
      case 5:
      case 6:
      case 7: {
        if (leases_.empty()) break;
        // Mostly a recent lease, sometimes an old one.
        const size_t n = leases_.size();
        const size_t at =
            Pick(4) == 0
                ? Pick(static_cast<int>(n))
                : n - 1 - Pick(static_cast<int>(std::min<size_t>(n, 3)));
        const auto [id, fence] = leases_[at];
        return MakeRequest(
            v1::WORK_QUEUE, "q",
            absl::StrCat("work_queue { ", Pick(3) ? "ack" : "release",
                         " { id: ", id, " fence: ", Pick(6) ? fence : fence + 1,
                         " } }"));
      }
      case 8:
        return MakeRequest(v1::WORK_QUEUE, "q", "work_queue { get {} }");
      case 9:
        return ParseRequest(
            absl::StrCat("cancel { request_id: ", 1 + Pick(next_id_), " }"));
      default:
        break;
    }
    return ParseRequest("session { keep_alive {} }");
  }

  void Step(int step) {
    (void)step;
    now_us_ += 1000 * Pick(150);
    InputRecord r;
    const int kind = Pick(100);
    std::vector<int> slots;
    if (kind < 75) {
      auto* batch = r.mutable_batch();
      batch->set_origin(1 + Pick(4));
      const int n = 1 + Pick(3);
      for (int i = 0; i < n; ++i) {
        const int slot = Pick(kSessions);
        v1::Request q = Operation();
        q.set_id(next_id_++);
        q.set_session_id(session_[slot]);
        *batch->add_requests() = q;
        slots.push_back(slot);
      }
    } else if (kind < 92) {
      r.mutable_tick();
      if (Pick(12) == 0) now_us_ += 3'000'000;  // past every TTL
    } else if (kind < 99) {
      r.mutable_cancel_origin()->set_origin(1 + Pick(4));
    } else {
      r.mutable_expire_all();
    }
    RecordOutput out = Emit(r);
    for (size_t i = 0; i < slots.size() && i < out.responses.size(); ++i) {
      const v1::Response& resp = out.responses[i];
      if (resp.error().code() == 10 &&
          resp.error().message().find("closed or expired") !=
              std::string::npos &&
          r.batch().requests(static_cast<int>(i)).session_id() ==
              session_[slots[i]]) {
        Open(slots[i]);
      }
    }
  }

  std::mt19937_64 rng_;
  Transcript transcript_;
  Engine engine_;
  std::vector<std::string> records_;
  int64_t now_us_ = 1'700'000'000'000'000;
  uint64_t next_id_ = 1;
  uint64_t session_[kSessions] = {};
  std::vector<std::pair<int64_t, int64_t>> leases_;  // (id, fence) seen
  int64_t pushed_ = 0;
  int64_t acked_ = 0;
  int64_t completed_takes_ = 0;
};

void Apply(Engine& engine, Transcript& transcript,
           const std::vector<std::string>& records, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    InputRecord record;
    ASSERT_TRUE(record.ParseFromString(records[i]));
    RecordOutput out;
    engine.Apply(record, out);
    transcript.Output(out);
  }
}

TEST(BrokerWorkQueueEngine, ReplayAndSnapshotsGoOnExactlyAndLoseNothing) {
  Recorder recorder(2026);
  recorder.Run(3000);
  const std::vector<std::string>& records = recorder.records();
  // The workload did real work: pushes, acks, waiting takes answered later.
  EXPECT_GT(recorder.pushed(), 100);
  EXPECT_GT(recorder.acked(), 50);
  EXPECT_GT(recorder.completed_takes(), 10);
  std::printf(
      "%zu records: %lld pushed, %lld acked, %lld waiting takes served\n",
      records.size(), static_cast<long long>(recorder.pushed()),
      static_cast<long long>(recorder.acked()),
      static_cast<long long>(recorder.completed_takes()));

  for (size_t cut : {size_t{0}, size_t{500}, size_t{1500}, size_t{2500}}) {
    Transcript original_transcript;
    Engine original(Limits{}, Engine::Options{}, &original_transcript);
    Apply(original, original_transcript, records, 0, cut);
    atomix::log::v1::EngineSnapshot snapshot;
    original.Save(snapshot);
    atomix::log::v1::EngineSnapshot parsed;
    ASSERT_TRUE(parsed.ParseFromString(snapshot.SerializeAsString()));
    Transcript loaded_transcript;
    Engine loaded(Limits{}, Engine::Options{}, &loaded_transcript);
    ASSERT_TRUE(loaded.Load(parsed).ok()) << "cut " << cut;
    EXPECT_TRUE(loaded.Digest() == original.Digest()) << "cut " << cut;
    const size_t before = original_transcript.text().size();
    Apply(original, original_transcript, records, cut, records.size());
    Apply(loaded, loaded_transcript, records, cut, records.size());
    EXPECT_TRUE(original_transcript.text().substr(before) ==
                loaded_transcript.text())
        << "cut " << cut;
    EXPECT_TRUE(loaded.Digest() == original.Digest()) << "cut " << cut;
    EXPECT_TRUE(original.Digest() == recorder.engine().Digest())
        << "cut " << cut;
  }
}

}  // namespace
}  // namespace atomix::broker
