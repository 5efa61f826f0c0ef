// The engine's side of security, driven by input records as a log replays
// them: sessions belong to the principal that opened them, releasing
// another session's grant by its fence needs the admin right, session ids
// are a keyed PRF of the open counter (deterministic on replay and across
// snapshots), and the quotas refuse exactly past their limits. No network.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/engine/engine.h"
#include "broker-sim/src/engine/session_ids.h"
#include "broker-sim/src/store/memory_store.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using atomix::log::v1::InputRecord;
using testing::MakeRequest;
using testing::ParseRequest;

constexpr int kPermissionDenied = 7;
constexpr int kResourceExhausted = 8;
constexpr uint64_t kBase = 5000;

::testing::AssertionResult Contains(const std::string& text,
                                    const std::string& part) {
  if (absl::StrContains(text, part)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" lacks \"" << part << "\"";
}

std::string Key(char seed) {
  std::string key(kSessionKeyBytes, '\0');
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(seed + i);
  return key;
}

v1::Request On(v1::Request request, uint64_t session, uint64_t sequence = 0,
               uint64_t ack = 0) {
  request.set_session_id(session);
  request.set_sequence(sequence);
  request.set_ack_sequence(ack);
  return request;
}

v1::Request SetValue(const std::string& name, size_t bytes) {
  v1::Request request = MakeRequest(v1::VALUE, name, "value { set {} }");
  request.mutable_value()->mutable_set()->set_value(std::string(bytes, 'x'));
  return request;
}

v1::Request GetValue(const std::string& name, uint64_t id = 1) {
  return MakeRequest(v1::VALUE, name, "value { get {} }", id);
}

// An engine fed batch records, each kept as a log would keep it.
class Driver {
 public:
  explicit Driver(Limits limits = {},
                  Engine::Options options = {.session_id_base = kBase,
                                             .session_key = Key(1)})
      : engine_(limits, std::move(options), nullptr) {}

  std::vector<v1::Response> Batch(const std::string& principal,
                                  const std::vector<v1::Request>& requests,
                                  const std::vector<bool>& admin = {}) {
    InputRecord record;
    record.set_now_us(1000000);
    auto* batch = record.mutable_batch();
    batch->set_origin(1);
    batch->set_principal(principal);
    for (const v1::Request& r : requests) *batch->add_requests() = r;
    for (bool a : admin) batch->add_admin(a);
    records_.push_back(record);
    RecordOutput out;
    engine_.Apply(record, out);
    return out.responses;
  }
  v1::Response One(const std::string& principal, const v1::Request& request,
                   const std::vector<bool>& admin = {}) {
    return Batch(principal, {request}, admin).at(0);
  }
  uint64_t Open(const std::string& principal, uint64_t nonce = 0) {
    v1::Request open = ParseRequest(
        absl::StrCat("session { open { nonce: ", nonce, " } }"));
    return One(principal, open).session().session_id();
  }
  v1::Response Session(const std::string& principal, const std::string& op,
                       uint64_t session) {
    return One(principal, On(ParseRequest("session { " + op + " }"), session));
  }

  Engine& engine() { return engine_; }
  const std::vector<InputRecord>& records() const { return records_; }

 private:
  Engine engine_;
  std::vector<InputRecord> records_;
};

// --- Sessions and principals ---

TEST(EngineSecurity, AnotherPrincipalsSessionIsRefusedAndNothingApplied) {
  Driver d;
  const uint64_t s = d.Open("alice");
  ASSERT_NE(s, 0u);
  const int64_t before = d.engine().revision();
  v1::Response r = d.One(
      "bob", On(MakeRequest(v1::COUNTER, "c", "counter { add { delta: 1 } }"), s, 1));
  EXPECT_EQ(r.error().code(), kPermissionDenied);
  EXPECT_EQ(r.error().message(),
            absl::StrCat("principal \"bob\" may not use session ", s,
                         ": another principal opened it"));
  EXPECT_FALSE(Contains(r.error().message(), "alice"));
  EXPECT_EQ(d.engine().revision(), before);
  EXPECT_EQ(d.engine().Find("c"), nullptr);

  // Keep-alive and close are refused too; the session lives on.
  r = d.Session("bob", "keep_alive {}", s);
  EXPECT_EQ(r.error().code(), kPermissionDenied);
  EXPECT_TRUE(Contains(r.error().message(), absl::StrCat("session ", s)));
  r = d.Session("bob", "close {}", s);
  EXPECT_EQ(r.error().code(), kPermissionDenied);
  EXPECT_EQ(d.engine().session_count(), 1u);
  // A lock acquire and a read with it: refused, nothing bound.
  r = d.One("bob", On(MakeRequest(v1::LOCK, "l", "lock { acquire {} }"), s));
  EXPECT_EQ(r.error().code(), kPermissionDenied);
  EXPECT_EQ(d.engine().Find("l"), nullptr);
  v1::Request get = On(GetValue("v"), s);
  v1::Response read;
  std::vector<const v1::Request*> in{&get};
  std::vector<v1::Response*> out{&read};
  ASSERT_TRUE(d.engine().Read(in, out, "bob"));
  EXPECT_EQ(read.error().code(), kPermissionDenied);
  // The anonymous principal is a principal like any other.
  r = d.Session("", "keep_alive {}", s);
  EXPECT_EQ(r.error().message(),
            absl::StrCat("the anonymous principal may not use session ", s,
                         ": another principal opened it"));

  // The refused sequence was not remembered: the owner applies it.
  r = d.One("alice",
            On(MakeRequest(v1::COUNTER, "c", "counter { add { delta: 1 } }"), s, 1));
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(d.engine().revision(), before + 1);
  r = d.Session("alice", "close {}", s);
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(d.engine().session_count(), 0u);
}

TEST(EngineSecurity, ANonceOfAnotherPrincipalsSessionRevealsNothing) {
  Driver d;
  const uint64_t s = d.Open("alice", 77);
  EXPECT_EQ(d.Open("alice", 77), s);  // the same session again
  v1::Response r = d.One("bob", ParseRequest("session { open { nonce: 77 } }"));
  EXPECT_EQ(r.error().code(), kPermissionDenied);
  EXPECT_FALSE(Contains(r.error().message(), absl::StrCat(s)));
  EXPECT_EQ(d.engine().session_count(), 1u);
}

TEST(EngineSecurity, TheBrokerCarriesThePrincipalToTheEngine) {
  Limits limits;
  Broker broker(std::make_unique<MemoryStore>(limits), limits);
  std::vector<Completion> late;
  v1::Response opened;
  ASSERT_TRUE(broker.Execute(ParseRequest("session { open {} }"), 1, "alice",
                             opened, late));
  const uint64_t s = opened.session().session_id();
  v1::Response r;
  ASSERT_TRUE(broker.Execute(On(ParseRequest("session { keep_alive {} }"), s), 1,
                             "bob", r, late));
  EXPECT_EQ(r.error().code(), kPermissionDenied);
  ASSERT_TRUE(broker.Execute(On(ParseRequest("session { keep_alive {} }"), s), 1,
                             "alice", r, late));
  EXPECT_FALSE(r.has_error()) << r.error().message();
}

// --- Releasing another session's grant needs admin ---

TEST(EngineSecurity, ReleasingAnotherSessionsLockByFenceNeedsAdmin) {
  Driver d;
  const uint64_t a = d.Open("alice");
  const uint64_t b = d.Open("bob");
  v1::Response got =
      d.One("alice", On(MakeRequest(v1::LOCK, "l", "lock { acquire {} }"), a));
  const int64_t fence = got.lock().version();
  ASSERT_GT(fence, 0);
  const v1::Request release = MakeRequest(
      v1::LOCK, "l", absl::StrCat("lock { release { if_version: ", fence, " } }"));
  const int64_t before = d.engine().revision();

  v1::Response r = d.One("bob", On(release, b), {false});
  EXPECT_EQ(r.error().code(), kPermissionDenied);
  EXPECT_EQ(r.error().message(),
            "principal \"bob\" lacks the admin right on \"l\": releasing a grant "
            "of another session by its fence needs it");
  // Without a session it is another session's grant too.
  r = d.One("bob", release, {false});
  EXPECT_EQ(r.error().code(), kPermissionDenied);
  EXPECT_EQ(d.engine().revision(), before);
  EXPECT_TRUE(d.One("bob", MakeRequest(v1::LOCK, "l", "lock { get {} }"))
                  .lock().locked());

  // With admin on the name it goes through.
  r = d.One("bob", On(release, b), {true});
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_FALSE(d.One("bob", MakeRequest(v1::LOCK, "l", "lock { get {} }"))
                   .lock().locked());
}

TEST(EngineSecurity, TheHolderReleasesByFenceWithoutAdmin) {
  Driver d;
  const uint64_t a = d.Open("alice");
  const int64_t fence =
      d.One("alice", On(MakeRequest(v1::LOCK, "l", "lock { acquire {} }"), a))
          .lock().version();
  v1::Response r = d.One(
      "alice",
      On(MakeRequest(v1::LOCK, "l",
                     absl::StrCat("lock { release { if_version: ", fence, " } }")),
         a),
      {false});
  EXPECT_FALSE(r.has_error()) << r.error().message();
}

TEST(EngineSecurity, UnlockingAnotherSessionsMapPrefixByFenceNeedsAdmin) {
  Driver d;
  const uint64_t a = d.Open("alice");
  const uint64_t b = d.Open("bob");
  const int64_t fence =
      d.One("alice", On(MakeRequest(v1::MAP, "m",
                                    "map { lock_prefix { prefix: \"jobs/\" } }"),
                        a))
          .map().version();
  ASSERT_GT(fence, 0);
  const v1::Request unlock = MakeRequest(
      v1::MAP, "m",
      absl::StrCat("map { unlock_prefix { prefix: \"jobs/\" if_version: ", fence,
                   " } }"));
  v1::Response r = d.One("bob", On(unlock, b), {false});
  EXPECT_EQ(r.error().code(), kPermissionDenied);
  EXPECT_TRUE(Contains(r.error().message(), "admin right on \"m\""));
  r = d.One("bob", On(unlock, b), {true});
  EXPECT_FALSE(r.has_error()) << r.error().message();
}

// --- Session ids ---

TEST(EngineSecurity, SipHashMatchesTheReferenceVectors) {
  std::string key;
  for (int i = 0; i < 16; ++i) key.push_back(static_cast<char>(i));
  EXPECT_EQ(SipHash24(key, ""), 0x726fdb47dd0e0e31ULL);
  std::string fifteen;
  for (int i = 0; i < 15; ++i) fifteen.push_back(static_cast<char>(i));
  EXPECT_EQ(SipHash24(key, fifteen), 0xa129ca6149be45e5ULL);
}

TEST(EngineSecurity, SessionIdsAreKeyedNotCountedAndReplayAlike) {
  Driver d;
  std::vector<uint64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(d.Open(i % 2 ? "alice" : ""));
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_NE(ids[i], 0u);
    EXPECT_NE(ids[i], kBase + i + 1);
    EXPECT_EQ(ids[i], SessionIdFor(Key(1), i + 1));
    for (size_t j = 0; j < i; ++j) EXPECT_NE(ids[i], ids[j]);
  }
  // The same records give the same ids and state; another key other ids.
  Driver again;
  Driver other(Limits{}, {.session_id_base = kBase, .session_key = Key(9)});
  for (const InputRecord& record : d.records()) {
    RecordOutput out, out2;
    again.engine().Apply(record, out);
    other.engine().Apply(record, out2);
  }
  EXPECT_EQ(again.engine().Digest(), d.engine().Digest());
  EXPECT_NE(other.engine().Digest(), d.engine().Digest());
  EXPECT_EQ(again.Open("x"), d.Open("x"));
}

TEST(EngineSecurity, KeysAndOwnersSurviveASnapshot) {
  Driver d;
  const uint64_t s = d.Open("alice");
  atomix::log::v1::EngineSnapshot snapshot;
  d.engine().Save(snapshot);
  EXPECT_EQ(snapshot.session_key(), Key(1));
  // A fresh engine without a key takes the snapshot's.
  Driver restored(Limits{}, {.session_id_base = 1});
  ASSERT_TRUE(restored.engine().Load(snapshot).ok());
  EXPECT_EQ(restored.Open("bob"), d.Open("bob"));
  EXPECT_EQ(restored.Session("bob", "keep_alive {}", s).error().code(),
            kPermissionDenied);
  EXPECT_FALSE(restored.Session("alice", "keep_alive {}", s).has_error());
}

TEST(EngineSecurity, WithoutAKeyIdsAreTheOldBasePlusCounter) {
  Driver d(Limits{}, {.session_id_base = kBase});
  EXPECT_EQ(d.Open(""), kBase + 1);
  EXPECT_EQ(d.Open(""), kBase + 2);
}

// --- Quotas ---

TEST(EngineQuota, MaxSessions) {
  Limits limits;
  limits.max_sessions = 2;
  Driver d(limits);
  const uint64_t a = d.Open("alice");
  EXPECT_NE(d.Open("bob"), 0u);
  v1::Response r = d.One("carol", ParseRequest("session { open {} }"));
  EXPECT_EQ(r.error().code(), kResourceExhausted);
  EXPECT_EQ(r.error().message(),
            "the broker has 2 sessions open, the limit max_sessions (flag "
            "--max-sessions); no session was opened");
  EXPECT_EQ(d.engine().session_count(), 2u);
  EXPECT_FALSE(d.Session("alice", "close {}", a).has_error());
  EXPECT_NE(d.Open("carol"), 0u);
}

TEST(EngineQuota, MaxSessionsPerPrincipal) {
  Limits limits;
  limits.max_sessions_per_principal = 2;
  Driver d(limits);
  const uint64_t a = d.Open("alice");
  EXPECT_NE(d.Open("alice"), 0u);
  v1::Response r = d.One("alice", ParseRequest("session { open {} }"));
  EXPECT_EQ(r.error().code(), kResourceExhausted);
  EXPECT_TRUE(Contains(r.error().message(), "principal \"alice\" has 2 sessions open"));
  EXPECT_TRUE(Contains(r.error().message(), "--max-sessions-per-principal"));
  EXPECT_NE(d.Open("bob"), 0u);
  EXPECT_FALSE(d.Session("alice", "close {}", a).has_error());
  EXPECT_NE(d.Open("alice"), 0u);
}

TEST(EngineQuota, MaxPrimitivesPerNamespace) {
  Limits limits;
  limits.max_primitives_per_namespace = 2;
  Driver d(limits);
  const v1::Request add = MakeRequest(v1::COUNTER, "", "counter { add { delta: 1 } }");
  auto named = [&](const std::string& name) {
    v1::Request r = add;
    r.set_name(name);
    return r;
  };
  EXPECT_FALSE(d.One("", named("a/x")).has_error());
  EXPECT_FALSE(d.One("", named("a/y")).has_error());
  const int64_t before = d.engine().revision();
  v1::Response r = d.One("", named("a/z"));
  EXPECT_EQ(r.error().code(), kResourceExhausted);
  EXPECT_EQ(r.error().message(),
            "namespace \"a/\" already holds 2 primitives, the limit "
            "max_primitives_per_namespace (flag --max-primitives-per-namespace); "
            "\"a/z\" was not created");
  EXPECT_EQ(d.engine().revision(), before);
  EXPECT_EQ(d.engine().Find("a/z"), nullptr);
  // Existing names still take writes; reads of new names bind nothing.
  EXPECT_FALSE(d.One("", named("a/x")).has_error());
  EXPECT_FALSE(d.One("", MakeRequest(v1::COUNTER, "a/q", "counter { get {} }"))
                   .has_error());
  // An open counts like a write; other namespaces (and "") are apart.
  EXPECT_EQ(d.One("", MakeRequest(v1::COUNTER, "a/o", "open {}")).error().code(),
            kResourceExhausted);
  EXPECT_FALSE(d.One("", named("b/x")).has_error());
  EXPECT_FALSE(d.One("", named("plain")).has_error());
  EXPECT_FALSE(d.One("", named("other")).has_error());
  EXPECT_EQ(d.One("", named("third")).error().code(), kResourceExhausted);
  // A transaction that would bind a name in a full namespace: nothing.
  v1::Request txn = ParseRequest(
      "txn { success { type: COUNTER name: \"b/y\" "
      "counter_add { delta: 1 } } success { type: COUNTER name: \"b/z\" "
      "counter_add { delta: 1 } } }");
  const int64_t at = d.engine().revision();
  r = d.One("", txn);
  EXPECT_EQ(r.error().code(), kResourceExhausted) << r.DebugString();
  EXPECT_EQ(d.engine().revision(), at);
  EXPECT_EQ(d.engine().Find("b/y"), nullptr);
}

// The serialized size of a remembered answer to GetValue on a value of
// `bytes`.
size_t AnswerSize(Driver& d, uint64_t session, uint64_t sequence) {
  return d.One("", On(GetValue("v"), session, sequence)).ByteSizeLong();
}

TEST(EngineQuota, MaxUnackedBytesPerSession) {
  // Measure one remembered answer, then cap at three of them.
  Driver probe;
  probe.One("", SetValue("v", 1000));
  const size_t answer = AnswerSize(probe, probe.Open(""), 1);
  Limits limits;
  limits.max_unacked_bytes = 3 * answer;
  Driver d(limits);
  d.One("", SetValue("v", 1000));
  const uint64_t s = d.Open("");
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    v1::Response r = d.One("", On(GetValue("v"), s, seq));
    ASSERT_FALSE(r.has_error()) << seq << ": " << r.error().message();
  }
  v1::Response r = d.One("", On(GetValue("v"), s, 4));
  EXPECT_EQ(r.error().code(), kResourceExhausted);
  EXPECT_TRUE(Contains(r.error().message(), absl::StrCat("remembers ", 3 * answer, " bytes")));
  EXPECT_TRUE(Contains(r.error().message(), "--max-unacked-bytes)"));
  // A retry of a remembered sequence is still answered.
  EXPECT_FALSE(d.One("", On(GetValue("v"), s, 2)).has_error());
  // Acknowledging one makes room for one more.
  r = d.One("", On(GetValue("v"), s, 4, /*ack=*/1));
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(d.One("", On(GetValue("v"), s, 5)).error().code(), kResourceExhausted);
}

TEST(EngineQuota, MaxUnackedBytesOverAllSessions) {
  Driver probe;
  probe.One("", SetValue("v", 1000));
  const size_t answer = AnswerSize(probe, probe.Open(""), 1);
  Limits limits;
  limits.max_unacked_bytes_total = 2 * answer;
  Driver d(limits);
  d.One("", SetValue("v", 1000));
  const uint64_t s1 = d.Open("");
  const uint64_t s2 = d.Open("");
  EXPECT_FALSE(d.One("", On(GetValue("v"), s1, 1)).has_error());
  EXPECT_FALSE(d.One("", On(GetValue("v"), s2, 1)).has_error());
  v1::Response r = d.One("", On(GetValue("v"), s1, 2));
  EXPECT_EQ(r.error().code(), kResourceExhausted);
  EXPECT_TRUE(Contains(r.error().message(), "--max-unacked-bytes-total"));
  // Session 2 acknowledges (with a keep-alive): session 1 goes on.
  EXPECT_FALSE(d.One("", On(ParseRequest("session { keep_alive {} }"), s2, 0, 1))
                   .has_error());
  EXPECT_FALSE(d.One("", On(GetValue("v"), s1, 2)).has_error());
  // Closing a session frees what it remembered.
  EXPECT_EQ(d.One("", On(GetValue("v"), s2, 2)).error().code(), kResourceExhausted);
  EXPECT_FALSE(d.Session("", "close {}", s1).has_error());
  EXPECT_FALSE(d.One("", On(GetValue("v"), s2, 2)).has_error());
}

TEST(EngineQuota, MaxBatchAnswerBytesInBatchesAndReads) {
  Driver probe;
  probe.One("", SetValue("v", 1000));
  const size_t answer = probe.One("", GetValue("v")).ByteSizeLong();
  for (const uint64_t cap : {2 * answer, 2 * answer - 1}) {
    // At 2 answers the cap is not passed yet: the third is answered.
    const size_t answered = cap == 2 * answer ? 3 : 2;
    Limits limits;
    limits.max_batch_answer_bytes = cap;
    Driver d(limits);
    d.One("", SetValue("v", 1000));
    std::vector<v1::Request> batch(5, GetValue("v"));
    // A write at the end of the batch: refused, not applied.
    batch.push_back(MakeRequest(v1::COUNTER, "c", "counter { add { delta: 1 } }"));
    const int64_t before = d.engine().revision();
    std::vector<v1::Response> out = d.Batch("", batch);
    for (size_t i = 0; i < out.size(); ++i) {
      if (i < answered) {
        EXPECT_FALSE(out[i].has_error()) << i;
        EXPECT_EQ(out[i].value().value().size(), 1000u);
      } else {
        EXPECT_EQ(out[i].error().code(), kResourceExhausted) << i;
        EXPECT_EQ(out[i].error().message(),
                  absl::StrCat("the answers of this batch passed ", cap,
                               " bytes (max_batch_answer_bytes, flag "
                               "--max-batch-answer-bytes); this request was "
                               "not applied: send it again in a later batch"));
      }
    }
    EXPECT_EQ(d.engine().revision(), before);
    EXPECT_EQ(d.engine().Find("c"), nullptr);
    // The read path (a batch of nothing but reads) stops alike.
    std::vector<v1::Request> reads(5, GetValue("v"));
    std::vector<v1::Response> answers(reads.size());
    BatchSpans spans(reads, answers);
    ASSERT_TRUE(d.engine().Read(spans.in, spans.out));
    for (size_t i = 0; i < answers.size(); ++i) {
      EXPECT_EQ(answers[i].has_error(), i >= answered) << i;
    }
  }
}

}  // namespace
}  // namespace atomix::broker
