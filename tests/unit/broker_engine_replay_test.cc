// The engine is a pure function of its input records: a random workload of
// many sessions (counters, compare-and-set, locks that wait and time out,
// cancels, TTL and ephemeral entries, elections, keep-alives, time jumps
// that expire sessions, origins going away, expire-all) is recorded, then
// replayed from its serialized records into a fresh engine. Every response,
// completion and watch event, and the final state digest, must be equal.
// A replay that skips one record must differ (the comparison can fail).
// No network, no clock.
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

constexpr uint64_t kSessionBase = 5000;
constexpr int kSessions = 8;

using testing::Transcript;

struct Replayed {
  std::string transcript;
  std::string digest;
  int64_t revision = 0;
};

// Drives an engine with a random workload, recording each input record as
// it is applied (serialized, as a log would keep it). Sessions that expire
// are opened again, as clients would, so the workload keeps doing work.
class Recorder {
 public:
  explicit Recorder(uint64_t seed)
      : rng_(seed), engine_(Limits{}, Engine::Options{.session_id_base = kSessionBase}, &transcript_) {}

  Replayed Run(int steps) {
    for (int slot = 0; slot < kSessions; ++slot) Open(slot);
    for (int step = 0; step < steps; ++step) Step(step);
    return Replayed{transcript_.text(), engine_.Digest(), engine_.revision()};
  }
  const std::vector<std::string>& records() const { return records_; }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  RecordOutput Emit(InputRecord& r) {
    r.set_now_us(now_us_);
    records_.push_back(r.SerializeAsString());
    RecordOutput out;
    engine_.Apply(r, out);
    transcript_.Output(out);
    return out;
  }

  void Open(int slot) {
    InputRecord r;
    v1::Request* open = r.mutable_batch()->add_requests();
    *open = ParseRequest("session { open { ttl_ms: 3000 } }");
    open->set_id(next_id_++);
    r.mutable_batch()->set_origin(1);
    session_[slot] = Emit(r).responses[0].session().session_id();
    sequence_[slot] = 0;
  }

  v1::Request Operation(int slot, int step) {
    const std::string name = kNames[Pick(3)];
    switch (Pick(11)) {
      case 0:
        return MakeRequest(v1::COUNTER, "n-" + name, "counter { add { delta: 1 } }");
      case 1:
        return MakeRequest(v1::MAP, "m", absl::StrCat("map { put { key: \"", name,
                                                      "\" value: \"", step, "\" } }"));
      case 2:
        return MakeRequest(v1::MAP, "m",
                           absl::StrCat("map { update { key: \"", name, "\" value: \"u", step,
                                        "\" if_version: ", Pick(step + 2), " } }"));
      case 3:
        return MakeRequest(v1::MAP, "m",
                           absl::StrCat("map { put { key: \"t", name, "\" value: \"x\" ttl_ms: ",
                                        100 + Pick(2000), " } }"));
      case 4:
        return MakeRequest(v1::MAP, "m",
                           absl::StrCat("map { put { key: \"e", slot,
                                        "\" value: \"x\" ephemeral: true } }"));
      case 5:
      case 6:
        return testing::LockAcquire("l-" + name, 0, Pick(3) == 0 ? 0 : 50 + Pick(1000));
      case 7:
        return MakeRequest(v1::LOCK, "l-" + name, "lock { release {} }");
      case 8:
        return MakeRequest(v1::ELECTION, "e",
                           absl::StrCat("election { ", Pick(2) ? "enter" : "leave",
                                        " { candidate_id: \"c", slot, "\" } }"));
      case 9:
        return ParseRequest(
            absl::StrCat("cancel { sequence: ", 1 + Pick(static_cast<int>(sequence_[slot]) + 1), " }"));
      default:
        return ParseRequest("session { keep_alive {} }");
    }
  }

  void Step(int step) {
    now_us_ += 1000 * Pick(200);
    InputRecord r;
    const int kind = Pick(100);
    std::vector<int> slots;
    if (kind < 75) {
      auto* batch = r.mutable_batch();
      batch->set_origin(1 + Pick(6));
      const int n = 1 + Pick(4);
      for (int i = 0; i < n; ++i) {
        const int slot = Pick(kSessions);
        v1::Request q = Operation(slot, step);
        q.set_id(next_id_++);
        q.set_session_id(session_[slot]);
        if (!q.has_cancel() && !q.has_session() && Pick(3) != 0) {
          q.set_sequence(++sequence_[slot]);
          // Sometimes a retry of an earlier sequence.
          if (Pick(8) == 0 && sequence_[slot] > 1) q.set_sequence(1 + Pick(sequence_[slot]));
        }
        *batch->add_requests() = q;
        slots.push_back(slot);
      }
    } else if (kind < 90) {
      r.mutable_tick();
      if (Pick(15) == 0) now_us_ += 4'000'000;  // past every TTL
    } else if (kind < 99) {
      r.mutable_cancel_origin()->set_origin(1 + Pick(6));
    } else {
      r.mutable_expire_all();
    }
    RecordOutput out = Emit(r);
    // A slot whose session is gone opens a new one.
    for (size_t i = 0; i < slots.size() && i < out.responses.size(); ++i) {
      if (out.responses[i].error().code() == 10 &&
          out.responses[i].error().message().find("closed or expired") != std::string::npos &&
          r.batch().requests(static_cast<int>(i)).session_id() == session_[slots[i]]) {
        Open(slots[i]);
      }
    }
  }

  static constexpr const char* kNames[] = {"a", "b", "c"};
  std::mt19937_64 rng_;
  Transcript transcript_;
  Engine engine_;
  std::vector<std::string> records_;
  int64_t now_us_ = 1'700'000'000'000'000;
  uint64_t next_id_ = 1;
  uint64_t session_[kSessions] = {};
  uint64_t sequence_[kSessions] = {};
};

Replayed Replay(const std::vector<std::string>& records, int skip = -1) {
  Transcript transcript;
  Engine engine(Limits{}, Engine::Options{.session_id_base = kSessionBase}, &transcript);
  for (int i = 0; i < static_cast<int>(records.size()); ++i) {
    if (i == skip) continue;
    InputRecord record;
    EXPECT_TRUE(record.ParseFromString(records[i]));
    RecordOutput out;
    engine.Apply(record, out);
    transcript.Output(out);
  }
  return Replayed{transcript.text(), engine.Digest(), engine.revision()};
}

// The first line where two transcripts differ, for failure messages.
std::string FirstDifference(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  const size_t line = a.rfind('\n', i == 0 ? 0 : i - 1);
  const size_t from = line == std::string::npos ? 0 : line + 1;
  return absl::StrCat("\n  recorded: ", a.substr(from, a.find('\n', from) - from),
                      "\n  replayed: ", b.substr(from, b.find('\n', from) - from));
}

TEST(BrokerEngineReplay, TheSameRecordsGiveTheSameAnswersEventsAndState) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    Recorder recorder(seed);
    const Replayed recorded = recorder.Run(3000);
    const Replayed replayed = Replay(recorder.records());
    // The workload did something: revisions, waits, grants, cancels,
    // timeouts and session ends.
    EXPECT_GT(recorded.revision, 1000) << "seed " << seed;
    for (const char* seen : {"deferred", "completion", "error { code: 1 message",  // cancelled
                             "error { code: 4 message",                            // timed out
                             "ended while waiting", "EXPIRED", "REMOVED"}) {
      EXPECT_NE(recorded.transcript.find(seen), std::string::npos) << "seed " << seed << ": no " << seen;
    }
    EXPECT_TRUE(recorded.transcript == replayed.transcript)
        << "seed " << seed << FirstDifference(recorded.transcript, replayed.transcript);
    EXPECT_TRUE(recorded.digest == replayed.digest)
        << "seed " << seed << FirstDifference(recorded.digest, replayed.digest);
  }
}

TEST(BrokerEngineReplay, SkippingOneRecordIsNoticed) {
  Recorder recorder(7);
  const Replayed recorded = recorder.Run(500);
  int tried = 0;
  for (int skip = 10; skip < 500 && tried < 6; skip += 37) {
    InputRecord record;
    ASSERT_TRUE(record.ParseFromString(recorder.records()[skip]));
    if (!record.has_batch()) continue;
    ++tried;
    const Replayed partial = Replay(recorder.records(), skip);
    EXPECT_NE(partial.transcript, recorded.transcript) << "skipped record " << skip;
  }
  EXPECT_GT(tried, 0);
}

TEST(BrokerEngineSnapshot, ALoadedSnapshotGoesOnExactlyAsTheEngineItWasTakenFrom) {
  Recorder recorder(11);
  recorder.Run(2000);
  const std::vector<std::string>& records = recorder.records();
  for (size_t cut : {size_t{1}, size_t{300}, size_t{1000}, size_t{1700}}) {
    Transcript original_transcript;
    Engine original(Limits{}, Engine::Options{.session_id_base = kSessionBase},
                    &original_transcript);
    auto apply = [&](Engine& engine, Transcript& transcript, size_t from, size_t to) {
      for (size_t i = from; i < to; ++i) {
        InputRecord record;
        ASSERT_TRUE(record.ParseFromString(records[i]));
        RecordOutput out;
        engine.Apply(record, out);
        transcript.Output(out);
      }
    };
    apply(original, original_transcript, 0, cut);
    atomix::log::v1::EngineSnapshot snapshot;
    original.Save(snapshot);
    // Through bytes, as a snapshot file carries it.
    atomix::log::v1::EngineSnapshot parsed;
    ASSERT_TRUE(parsed.ParseFromString(snapshot.SerializeAsString()));
    Transcript loaded_transcript;
    Engine loaded(Limits{}, Engine::Options{}, &loaded_transcript);
    ASSERT_TRUE(loaded.Load(parsed).ok());
    EXPECT_TRUE(loaded.Digest() == original.Digest())
        << "cut " << cut << FirstDifference(original.Digest(), loaded.Digest());
    const std::string before = original_transcript.text();
    apply(original, original_transcript, cut, records.size());
    apply(loaded, loaded_transcript, cut, records.size());
    const std::string rest = original_transcript.text().substr(before.size());
    EXPECT_TRUE(rest == loaded_transcript.text())
        << "cut " << cut << FirstDifference(rest, loaded_transcript.text());
    EXPECT_TRUE(loaded.Digest() == original.Digest()) << "cut " << cut;
  }
}

TEST(BrokerEngineSnapshot, ASnapshotLoadsOnlyIntoAFreshEngineAndNamesBadPrimitives) {
  Recorder recorder(5);
  recorder.Run(100);
  atomix::log::v1::EngineSnapshot snapshot;
  {
    Engine engine(Limits{}, Engine::Options{.session_id_base = kSessionBase}, nullptr);
    for (const std::string& bytes : recorder.records()) {
      InputRecord record;
      ASSERT_TRUE(record.ParseFromString(bytes));
      RecordOutput out;
      engine.Apply(record, out);
    }
    engine.Save(snapshot);
    EXPECT_EQ(engine.Load(snapshot).code(), absl::StatusCode::kFailedPrecondition);
  }
  ASSERT_GT(snapshot.primitives_size(), 0);
  snapshot.mutable_primitives(0)->clear_state();
  Engine fresh(Limits{}, Engine::Options{}, nullptr);
  const absl::Status status = fresh.Load(snapshot);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("saved primitive \"" + snapshot.primitives(0).name() + "\""),
            std::string::npos)
      << status;
}

TEST(BrokerEngineReplay, TheDigestCoversEveryPartOfTheState) {
  auto digest_after = [](const std::string& op_text, v1::PrimitiveType type) {
    Engine engine(Limits{}, Engine::Options{}, nullptr);
    v1::Request r = MakeRequest(type, "x", op_text, 1);
    v1::Response response;
    const v1::Request* in[] = {&r};
    v1::Response* out[] = {&response};
    StoreResult result;
    engine.ApplyBatch(testing::TestNow(), 1, in, out, result);
    return engine.Digest();
  };
  // Different values, keys and types give different digests.
  const std::string a = digest_after(R"pb(map { put { key: "k" value: "1" } })pb", v1::MAP);
  EXPECT_NE(a, digest_after(R"pb(map { put { key: "k" value: "2" } })pb", v1::MAP));
  EXPECT_NE(a, digest_after(R"pb(map { put { key: "j" value: "1" } })pb", v1::MAP));
  EXPECT_NE(digest_after("counter { add { delta: 1 } }", v1::COUNTER),
            digest_after("counter { add { delta: 2 } }", v1::COUNTER));
  EXPECT_EQ(a, digest_after(R"pb(map { put { key: "k" value: "1" } })pb", v1::MAP));
}

}  // namespace
}  // namespace atomix::broker
