// The fair read-write lock: shared readers, an exclusive writer, FIFO
// fairness (a waiting writer holds back later readers), runs of readers
// granted together, no upgrade, timeouts on the logical clock,
// cancellation, session ends, fences, snapshots and saves. No network.
#include "broker-sim/src/state/read_write_lock.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/testing/requests.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

using testing::BrokerDriver;
using testing::MakeRequest;

constexpr int kInvalidArgument = 3;
constexpr int kDeadlineExceeded = 4;
constexpr int kFailedPrecondition = 9;
constexpr int kAborted = 10;
constexpr int kDataLoss = 15;

v1::Request Acquire(const std::string& mode, uint64_t id,
                    int64_t timeout_ms = 0, bool try_only = false) {
  v1::Request request =
      MakeRequest(v1::READ_WRITE_LOCK, "rw",
                  "read_write_lock { acquire { mode: " + mode +
                      (try_only ? " try_only: true" : "") + " } }",
                  id);
  request.set_timeout_ms(timeout_ms);
  return request;
}

class BrokerReadWriteLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = broker_.OpenSession();
    b_ = broker_.OpenSession();
    c_ = broker_.OpenSession();
    d_ = broker_.OpenSession();
  }
  v1::Response Rw(const std::string& op, uint64_t session = 0) {
    return broker_.Apply(v1::READ_WRITE_LOCK, "rw",
                         "read_write_lock { " + op + " }", session);
  }
  v1::ReadWriteLockResponse Get(const std::string& op = "get {}") {
    return Rw(op).read_write_lock();
  }
  // Waits: the acquire must be deferred.
  void Wait(const std::string& mode, uint64_t session, uint64_t id,
            uint64_t origin, int64_t timeout_ms = 0) {
    broker_.Apply(Acquire(mode, id, timeout_ms), session, 0, origin);
    ASSERT_TRUE(broker_.last_deferred()) << mode << " " << id;
  }
  std::vector<uint64_t> Ids(const std::vector<Completion>& done) {
    std::vector<uint64_t> ids;
    for (const Completion& c : done) ids.push_back(c.response.id());
    return ids;
  }

  BrokerDriver broker_;
  uint64_t a_ = 0, b_ = 0, c_ = 0, d_ = 0;
};

TEST_F(BrokerReadWriteLockTest, ReadersShareAndAWriterWaitsForAll) {
  v1::Response r = broker_.Apply(Acquire("READ", 1), a_);
  EXPECT_FALSE(broker_.last_deferred());
  EXPECT_TRUE(r.read_write_lock().acquired());
  EXPECT_EQ(r.read_write_lock().version(), 1);
  EXPECT_EQ(r.read_write_lock().mode(), v1::READ);
  EXPECT_EQ(r.read_write_lock().readers(), 1);
  r = broker_.Apply(Acquire("READ", 2), b_);
  EXPECT_EQ(r.read_write_lock().version(), 2);
  EXPECT_EQ(r.read_write_lock().readers(), 2);

  Wait("WRITE", c_, 3, 3);
  EXPECT_EQ(broker_.revision(), 2);  // waiting takes no revision
  EXPECT_EQ(Get().waiters(), 1);
  r = Rw("release { mode: READ }", a_);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.read_write_lock().version(), 3);
  EXPECT_EQ(r.read_write_lock().readers(), 1);
  EXPECT_TRUE(broker_.TakeCompletions().empty());

  r = Rw("release { mode: READ }", b_);
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 3u);
  EXPECT_EQ(done[0].response.id(), 3u);
  EXPECT_TRUE(done[0].response.read_write_lock().acquired());
  EXPECT_EQ(done[0].response.read_write_lock().version(), 4);
  EXPECT_EQ(done[0].response.read_write_lock().mode(), v1::WRITE);
  EXPECT_EQ(done[0].response.read_write_lock().writer_fence(), 4);
  EXPECT_EQ(r.read_write_lock().mode(), v1::WRITE);

  const v1::ReadWriteLockResponse get = Get();
  EXPECT_TRUE(get.locked());
  EXPECT_EQ(get.mode(), v1::WRITE);
  EXPECT_EQ(get.readers(), 0);
  EXPECT_EQ(get.writer_fence(), 4);
  EXPECT_EQ(get.waiters(), 0);
  Rw("release { mode: WRITE }", c_);
  EXPECT_FALSE(Get().locked());
  EXPECT_EQ(Get().mode(), v1::LOCK_MODE_UNSPECIFIED);
}

TEST_F(BrokerReadWriteLockTest, AWaitingWriterHoldsBackLaterReaders) {
  broker_.Apply(Acquire("READ", 1), a_);  // fence 1
  Wait("WRITE", b_, 2, 2);
  // A reader arriving after the writer waits, though only readers hold.
  v1::Response r = broker_.Apply(Acquire("READ", 3, 0, true), c_);
  EXPECT_FALSE(r.read_write_lock().acquired());
  EXPECT_EQ(r.read_write_lock().mode(), v1::READ);
  EXPECT_EQ(r.read_write_lock().readers(), 1);
  Wait("READ", c_, 4, 3);
  Wait("READ", d_, 5, 4);
  Wait("WRITE", a_, 6, 5);
  Wait("READ", b_, 7, 6);

  // The reader leaves: the writer, first in line, gets it alone.
  Rw("release { mode: READ }", a_);  // 2
  EXPECT_EQ(Ids(broker_.TakeCompletions()), std::vector<uint64_t>{2});
  // The writer leaves: the run of two readers is granted together, at one
  // fence; the second writer holds back the last reader.
  broker_.Apply(v1::READ_WRITE_LOCK, "rw",
                "read_write_lock { release { mode: WRITE } }", b_);  // 3
  std::vector<Completion> done = broker_.TakeCompletions();
  EXPECT_EQ(Ids(done), (std::vector<uint64_t>{4, 5}));
  for (const Completion& c : done) {
    EXPECT_EQ(c.response.read_write_lock().version(), 3);
    EXPECT_EQ(c.response.revision(), 3);
  }
  EXPECT_EQ(Get().readers(), 2);
  EXPECT_EQ(Get().waiters(), 2);
  Rw("release { mode: READ }", c_);  // 4
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  Rw("release { mode: READ }", d_);  // 5: the writer
  EXPECT_EQ(Ids(broker_.TakeCompletions()), std::vector<uint64_t>{6});
  EXPECT_EQ(Get().writer_fence(), 5);
  Rw("release { mode: WRITE }", a_);  // 6: the last reader
  done = broker_.TakeCompletions();
  EXPECT_EQ(Ids(done), std::vector<uint64_t>{7});
  EXPECT_EQ(done[0].response.read_write_lock().version(), 6);
}

TEST_F(BrokerReadWriteLockTest, NoUpgradeTheSessionWaitsBehindItself) {
  broker_.Apply(Acquire("READ", 1), a_);
  Wait("WRITE", a_, 2, 2, 100);
  broker_.Advance(absl::Milliseconds(99));
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  broker_.Advance(absl::Milliseconds(1));
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.error().code(), kDeadlineExceeded);
  EXPECT_EQ(done[0].response.error().message(),
            "read-write lock \"rw\": timed out waiting; it has 1 reader");
  EXPECT_EQ(broker_.revision(), 1);
  // Releasing its read grant lets its own write through.
  Wait("WRITE", a_, 3, 3);
  Rw("release { mode: READ }", a_);
  EXPECT_EQ(Ids(broker_.TakeCompletions()), std::vector<uint64_t>{3});
  EXPECT_EQ(Get().writer_fence(), 2);
}

TEST_F(BrokerReadWriteLockTest, TryOnlyNeverWaits) {
  broker_.Apply(Acquire("WRITE", 1), a_);
  v1::Response r = broker_.Apply(Acquire("READ", 2, 0, true), b_);
  EXPECT_FALSE(broker_.last_deferred());
  EXPECT_FALSE(r.has_error());
  EXPECT_FALSE(r.read_write_lock().acquired());
  EXPECT_EQ(r.read_write_lock().writer_fence(), 1);
  EXPECT_EQ(r.revision(), 1);
  r = broker_.Apply(Acquire("WRITE", 3, 0, true), b_);
  EXPECT_FALSE(r.read_write_lock().acquired());
  Rw("release { mode: WRITE }", a_);
  r = broker_.Apply(Acquire("READ", 4, 0, true), b_);
  EXPECT_TRUE(r.read_write_lock().acquired());
  EXPECT_EQ(r.read_write_lock().version(), 3);
}

TEST_F(BrokerReadWriteLockTest, ReleaseNamesTheSessionModeAndFence) {
  broker_.Apply(Acquire("READ", 1), a_);  // fence 1
  broker_.Apply(Acquire("READ", 2), a_);  // fence 2: a second grant
  v1::Response r = Rw("release { mode: READ }", b_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().message(),
            "read-write lock \"rw\" has no READ grant of session 2; it has 2 "
            "readers");
  EXPECT_EQ(r.error().current(), 0);
  r = Rw("release { mode: WRITE }", a_);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  r = Rw("release { mode: READ if_version: 3 }", a_);
  EXPECT_EQ(r.error().message(),
            "read-write lock \"rw\" has no READ grant of session 1 with fence "
            "3; it has 2 readers");
  // By fence: the newer one goes, the older one holds.
  r = Rw("release { mode: READ if_version: 2 }", a_);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.read_write_lock().version(), 3);
  EXPECT_TRUE(Get("get { with_version: 1 }").locked());
  EXPECT_FALSE(Get("get { with_version: 2 }").locked());
  // Without a fence: the oldest.
  Rw("release { mode: READ }", a_);
  EXPECT_FALSE(Get().locked());
  r = Rw("release { mode: READ }", a_);
  EXPECT_EQ(
      r.error().message(),
      "read-write lock \"rw\" has no READ grant of session 1; it is free");
  EXPECT_EQ(r.error().current(), 0);

  broker_.Apply(Acquire("WRITE", 3), b_);  // fence 5
  r = Rw("release { mode: WRITE }", a_);
  EXPECT_EQ(r.error().message(),
            "read-write lock \"rw\" has no WRITE grant of session 1; the "
            "writer's fence is 5");
  EXPECT_EQ(r.error().current(), 5);
  EXPECT_EQ(broker_.revision(), 5);
}

TEST_F(BrokerReadWriteLockTest, AHeadWriterTimingOutLetsTheReadersBehindIn) {
  broker_.Apply(Acquire("READ", 1), a_);
  Wait("WRITE", b_, 2, 2, 500);
  Wait("READ", c_, 3, 3);
  Wait("READ", d_, 4, 4, 2000);
  broker_.Advance(absl::Milliseconds(500));
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].response.error().code(), kDeadlineExceeded);
  EXPECT_EQ(done[1].response.id(), 3u);
  EXPECT_EQ(done[2].response.id(), 4u);
  EXPECT_EQ(done[2].response.read_write_lock().version(), 2);
  EXPECT_EQ(broker_.revision(), 2);
  EXPECT_EQ(Get().readers(), 3);
  broker_.Advance(absl::Seconds(5));
  EXPECT_TRUE(broker_.TakeCompletions().empty());
}

TEST_F(BrokerReadWriteLockTest, CancellingTheHeadWriterLetsTheReadersIn) {
  broker_.Apply(Acquire("READ", 1), a_);
  Wait("WRITE", b_, 2, 7);
  Wait("READ", c_, 3, 8);
  broker_.Cancel(7);  // takes no revision and answers nothing
  EXPECT_TRUE(broker_.TakeCompletions().empty());
  EXPECT_EQ(broker_.revision(), 1);
  broker_.Advance(absl::Milliseconds(1));  // the next tick grants the reader
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].origin, 8u);
  EXPECT_EQ(done[0].response.read_write_lock().version(), 2);
}

TEST_F(BrokerReadWriteLockTest, SessionEndReleasesEverythingInOneRevision) {
  broker_.Apply(Acquire("READ", 1), a_);  // 1
  broker_.Apply(Acquire("READ", 2), a_);  // 2
  broker_.Apply(Acquire("READ", 3), b_);  // 3
  Wait("WRITE", c_, 4, 4);
  Wait("WRITE", a_, 5, 5);  // a also waits
  Wait("READ", d_, 6, 6);
  broker_.Session("close {}", a_);  // 4: a's two grants go, b still reads
  std::vector<Completion> done = broker_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].response.id(), 5u);
  EXPECT_EQ(done[0].response.error().code(), kAborted);
  EXPECT_EQ(done[0].response.error().message(),
            "session 1 ended while waiting for read-write lock \"rw\"");
  EXPECT_EQ(broker_.revision(), 4);
  EXPECT_EQ(Get().readers(), 1);
  EXPECT_FALSE(Get("get { with_version: 1 }").locked());
  EXPECT_TRUE(Get("get { with_version: 3 }").locked());

  // b's session expires: its grant goes and the writer gets it in the same
  // step, at the same revision.
  broker_.Session("close {}", b_);
  done = broker_.TakeCompletions();
  EXPECT_EQ(Ids(done), std::vector<uint64_t>{4});
  EXPECT_EQ(done[0].response.read_write_lock().version(), 5);
  EXPECT_EQ(broker_.revision(), 5);
}

TEST_F(BrokerReadWriteLockTest, FencedMapWritesApplyOnlyWhileAGrantHolds) {
  broker_.Apply(Acquire("READ", 1), a_);  // 1
  broker_.Apply(Acquire("READ", 2), b_);  // 2
  const std::string put1 = R"pb(map {
                                  put {
                                    key: "k"
                                    value: "1"
                                    if_fence { lock: "rw" version: 1 }
                                  }
                                })pb";
  v1::Response r = broker_.Apply(v1::MAP, "m", put1);
  EXPECT_FALSE(r.has_error()) << r.error().message();
  Rw("release { mode: READ }", a_);  // 4
  r = broker_.Apply(v1::MAP, "m", put1);
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), 2);  // the newest fence that holds
  r = broker_.Apply(v1::MAP, "m", R"pb(map {
                                         put {
                                           key: "k"
                                           value: "2"
                                           if_fence { lock: "rw" version: 2 }
                                         }
                                       })pb");
  EXPECT_FALSE(r.has_error()) << r.error().message();
  Rw("release { mode: READ }", b_);
  r = broker_.Apply(v1::MAP, "m", R"pb(map {
                                         put {
                                           key: "k"
                                           value: "3"
                                           if_fence { lock: "rw" version: 2 }
                                         }
                                       })pb");
  EXPECT_EQ(r.error().code(), kFailedPrecondition);
  EXPECT_EQ(r.error().current(), 0);
}

TEST_F(BrokerReadWriteLockTest, RequestsAreValidated) {
  v1::Response r = Rw("acquire { mode: READ }");
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(), "read-write lock acquire needs a session");
  r = Rw("acquire {}", a_);
  EXPECT_EQ(r.error().code(), kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "read-write lock acquire mode is unspecified; it must be READ or "
            "WRITE");
  r = Rw("release { mode: 9 }", a_);
  EXPECT_EQ(r.error().message(),
            "read-write lock release mode is 9; it must be READ or WRITE");
  r = Rw("release { mode: READ }");
  EXPECT_EQ(r.error().message(), "read-write lock release needs a session");
  r = Rw("release { mode: READ if_version: 0 }", a_);
  EXPECT_EQ(r.error().message(),
            "read-write lock release if_version is 0; it must be positive");
  EXPECT_EQ(broker_.Apply(v1::READ_WRITE_LOCK, "rw", "read_write_lock {}")
                .error()
                .code(),
            kInvalidArgument);
  EXPECT_EQ(broker_.Apply(v1::READ_WRITE_LOCK, "rw", "lock { get {} }")
                .error()
                .code(),
            kInvalidArgument);
  EXPECT_EQ(broker_.revision(), 0);
}

// The machine itself, driven the way the engine drives it.
class ReadWriteLockMachineTest : public ::testing::Test {
 protected:
  ApplyResult Run(ReadWriteLockState& m, const std::string& op,
                  uint64_t session, uint64_t token, int64_t timeout_ms = 0,
                  v1::Response* response = nullptr) {
    v1::Request request = MakeRequest(v1::READ_WRITE_LOCK, "rw",
                                      "read_write_lock { " + op + " }");
    request.set_session_id(session);
    request.set_timeout_ms(timeout_ms);
    v1::Response ignored;
    const ApplyContext ctx{.revision = revision_ + 1,
                           .now = testing::TestNow(),
                           .limits = limits_,
                           .token = token};
    ApplyResult result = m.Apply(request, ctx, response ? *response : ignored);
    if (result.mutated) ++revision_;
    return result;
  }
  ApplyResult End(ReadWriteLockState& m, uint64_t session) {
    const ApplyContext ctx{.revision = revision_ + 1,
                           .now = testing::TestNow(),
                           .limits = limits_};
    ApplyResult result = m.EndSession(session, ctx);
    if (result.mutated) ++revision_;
    return result;
  }
  static std::string Saved(const StateMachine& m) {
    atomix::log::v1::PrimitiveSave save;
    m.Save(save);
    return save.DebugString();
  }
  static std::string Snap(const StateMachine& m) {
    v1::WatchSnapshot snapshot;
    m.Snapshot({}, snapshot);
    return snapshot.DebugString();
  }

  Limits limits_;
  int64_t revision_ = 0;
};

TEST_F(ReadWriteLockMachineTest, EventsNameEachGrantAtTheStepsRevision) {
  ReadWriteLockState m;
  ApplyResult r = Run(m, "acquire { mode: WRITE }", 1, 1);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(r.events[0].revision(), 1);
  EXPECT_EQ(r.events[0].read_write_lock().mode(), v1::WRITE);
  EXPECT_EQ(r.events[0].read_write_lock().grant().fence(), 1);
  EXPECT_EQ(r.events[0].read_write_lock().grant().session_id(), 1u);
  EXPECT_TRUE(Run(m, "acquire { mode: READ }", 2, 2, 1000).deferred);
  EXPECT_TRUE(Run(m, "acquire { mode: READ }", 3, 3).deferred);
  EXPECT_EQ(m.NextDeadline(), testing::TestNow() + absl::Seconds(1));

  r = End(m, 1);
  EXPECT_TRUE(r.mutated);
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].type(), v1::WatchEvent::REMOVED);
  EXPECT_EQ(r.events[0].read_write_lock().mode(), v1::LOCK_MODE_UNSPECIFIED);
  EXPECT_EQ(r.events[1].type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(r.events[1].read_write_lock().readers(), 1);
  EXPECT_EQ(r.events[2].read_write_lock().readers(), 2);
  EXPECT_EQ(r.events[2].read_write_lock().grant().session_id(), 3u);
  for (const v1::WatchEvent& e : r.events) EXPECT_EQ(e.revision(), 2);
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(r.answers[0].token, 2u);
  EXPECT_EQ(r.answers[1].token, 3u);
  EXPECT_EQ(m.NextDeadline(), absl::InfiniteFuture());

  v1::WatchSnapshot snapshot;
  m.Snapshot({}, snapshot);
  EXPECT_EQ(snapshot.read_write_lock().mode(), v1::READ);
  EXPECT_EQ(snapshot.read_write_lock().readers(), 2);
  ASSERT_EQ(snapshot.read_write_lock().holders_size(), 2);
  EXPECT_EQ(snapshot.read_write_lock().holders(1).fence(), 2);
  EXPECT_EQ(snapshot.read_write_lock().holders(1).mode(), v1::READ);
  // Reads and failures report nothing.
  EXPECT_FALSE(Run(m, "get {}", 0, 0).mutated);
  EXPECT_TRUE(Run(m, "release { mode: WRITE }", 2, 0).events.empty());
}

TEST_F(ReadWriteLockMachineTest, SaveAndLoadMidWaitGoOnWhereTheyWere) {
  ReadWriteLockState m;
  Run(m, "acquire { mode: READ }", 1, 1);
  Run(m, "acquire { mode: READ }", 1, 2);
  Run(m, "acquire { mode: WRITE }", 2, 3, 5000);
  Run(m, "acquire { mode: READ }", 3, 4);
  ReadWriteLockState copy;
  atomix::log::v1::PrimitiveSave save;
  m.Save(save);
  ASSERT_TRUE(copy.Load(save).ok());
  EXPECT_EQ(Saved(copy), Saved(m));
  EXPECT_EQ(Snap(copy), Snap(m));
  EXPECT_EQ(copy.NextDeadline(), m.NextDeadline());
  EXPECT_TRUE(copy.FenceHolds(2));
  EXPECT_EQ(copy.NewestFence(), 2);

  // Both go on identically: session 1 ends, the writer gets it.
  const int64_t at = revision_;
  ApplyResult a = End(m, 1);
  revision_ = at;
  ApplyResult b = End(copy, 1);
  ASSERT_EQ(a.answers.size(), 1u);
  ASSERT_EQ(b.answers.size(), 1u);
  EXPECT_EQ(a.answers[0].token, 3u);
  EXPECT_EQ(b.answers[0].response.DebugString(),
            a.answers[0].response.DebugString());
  EXPECT_EQ(Saved(copy), Saved(m));
  EXPECT_EQ(copy.writer_fence(), 3);
  // Grant ids continue: the next grant is not confused with a saved one.
  Run(copy, "release { mode: WRITE }", 2, 0);
  EXPECT_EQ(copy.readers(), 1);
  EXPECT_EQ(copy.grants(), 1u);
}

// Many random steps (acquires, releases, timeouts, cancels, session ends)
// from a fixed seed: after every one, never a writer alongside another
// grant, a head that could be granted is due at once, every grant answers
// a waiter in arrival order, and Save/Load reproduces the machine.
TEST_F(ReadWriteLockMachineTest, RandomStepsKeepTheInvariants) {
  ReadWriteLockState m;
  std::mt19937 rng(12345);
  absl::Time now = testing::TestNow();
  uint64_t token = 0;
  std::vector<uint64_t> waiting;  // tokens, in arrival order
  int64_t grants_seen = 0, max_readers = 0;
  for (int step = 0; step < 5000; ++step) {
    const uint64_t session = 1 + rng() % 5;
    const int what = static_cast<int>(rng() % 10);
    ApplyResult r;
    const ApplyContext ctx{.revision = revision_ + 1,
                           .now = now,
                           .limits = limits_,
                           .token = ++token};
    v1::Response response;
    if (what < 5) {
      v1::Request request = MakeRequest(
          v1::READ_WRITE_LOCK, "rw",
          rng() % 3 == 0 ? "read_write_lock { acquire { mode: WRITE } }"
                         : "read_write_lock { acquire { mode: READ } }");
      request.set_session_id(session);
      request.set_timeout_ms(rng() % 2 ? 0 : 1 + rng() % 50);
      r = m.Apply(request, ctx, response);
      if (r.deferred) waiting.push_back(token);
    } else if (what < 8) {
      v1::Request request =
          MakeRequest(v1::READ_WRITE_LOCK, "rw",
                      rng() % 2 ? "read_write_lock { release { mode: WRITE } }"
                                : "read_write_lock { release { mode: READ } }");
      request.set_session_id(session);
      r = m.Apply(request, ctx, response);
    } else if (what == 8 && !waiting.empty() && rng() % 2 == 0) {
      const uint64_t gone = waiting[rng() % waiting.size()];
      m.Cancel(gone);
      waiting.erase(std::find(waiting.begin(), waiting.end(), gone));
    } else if (what == 8) {
      r = m.EndSession(session, ctx);
    } else {
      now += absl::Milliseconds(rng() % 20);
      const ApplyContext later{
          .revision = revision_ + 1, .now = now, .limits = limits_};
      while (m.NextDeadline() <= now) {
        ApplyResult a = m.Advance(later);
        r.mutated |= a.mutated;
        for (Answer& answer : a.answers) r.answers.push_back(std::move(answer));
      }
    }
    if (r.mutated) ++revision_;
    // Answers leave the waiting list; grants in arrival order.
    uint64_t last_granted = 0;
    for (const Answer& answer : r.answers) {
      auto it = std::find(waiting.begin(), waiting.end(), answer.token);
      ASSERT_NE(it, waiting.end()) << "step " << step;
      if (!answer.response.has_error()) {
        ++grants_seen;
        ASSERT_GT(answer.token, last_granted) << "step " << step;
        last_granted = answer.token;
        ASSERT_EQ(answer.response.read_write_lock().version(), revision_);
      }
      waiting.erase(it);
    }
    ASSERT_EQ(m.waiters(), waiting.size()) << "step " << step;
    ASSERT_TRUE(m.writer_fence() == 0 || m.grants() == 1) << "step " << step;
    ASSERT_EQ(static_cast<size_t>(m.readers()) + (m.writer_fence() ? 1 : 0),
              m.grants());
    max_readers = std::max(max_readers, m.readers());
    if (step % 97 == 0) {
      ReadWriteLockState copy;
      atomix::log::v1::PrimitiveSave save;
      m.Save(save);
      ASSERT_TRUE(copy.Load(save).ok());
      ASSERT_EQ(Saved(copy), Saved(m));
      ASSERT_EQ(Snap(copy), Snap(m));
      ASSERT_EQ(copy.NextDeadline(), m.NextDeadline());
    }
  }
  EXPECT_GT(grants_seen, 100);
  EXPECT_GT(max_readers, 2);
}

TEST_F(ReadWriteLockMachineTest, GrantsAndWaitersAreBounded) {
  ReadWriteLockState m;
  const size_t limit = ReadWriteLockState::kMaxGrantsAndWaiters;
  for (size_t i = 0; i + 1 < limit; ++i) {
    ASSERT_TRUE(Run(m, "acquire { mode: READ }", 1 + i % 7, i + 1).mutated);
  }
  EXPECT_TRUE(Run(m, "acquire { mode: WRITE }", 9, limit).deferred);
  v1::Response response;
  ApplyResult r = Run(m, "acquire { mode: READ }", 9, limit + 1, 0, &response);
  EXPECT_FALSE(r.mutated || r.deferred);
  EXPECT_EQ(response.error().code(), 8);  // RESOURCE_EXHAUSTED
  EXPECT_EQ(response.error().message(),
            "read-write lock \"rw\" has 65535 grants and 1 waiters; the limit "
            "is 65536");
  EXPECT_EQ(m.grants() + m.waiters(), limit);
  // Ending one session frees room.
  End(m, 1);
  EXPECT_LT(m.grants() + m.waiters(), limit);
  EXPECT_TRUE(Run(m, "acquire { mode: READ }", 9, limit + 2).deferred);
}

TEST_F(ReadWriteLockMachineTest, LoadRefusesWrongOrInconsistentSaves) {
  atomix::log::v1::PrimitiveSave save;
  save.mutable_counter();
  ReadWriteLockState m;
  EXPECT_EQ(m.Load(save).code(), absl::StatusCode::kDataLoss);

  auto make = [] {
    atomix::log::v1::PrimitiveSave s;
    auto* rw = s.mutable_read_write_lock();
    rw->set_name("rw");
    rw->set_next_grant(3);
    rw->set_next_order(2);
    auto* g = rw->add_grants();
    g->set_id(1);
    g->set_fence(1);
    g->set_session(1);
    g->set_mode(v1::READ);
    auto* w = rw->add_waiters();
    w->set_order(0);
    w->set_token(5);
    w->set_session(2);
    w->set_amount(v1::WRITE);
    return s;
  };
  {
    ReadWriteLockState ok;
    EXPECT_TRUE(ok.Load(make()).ok());
    EXPECT_EQ(ok.waiters(), 1u);
  }
  std::vector<atomix::log::v1::PrimitiveSave> bad(6, make());
  bad[0].mutable_read_write_lock()->mutable_grants(0)->set_mode(0);
  bad[1].mutable_read_write_lock()->mutable_grants(0)->set_id(3);
  bad[2].mutable_read_write_lock()->mutable_grants(0)->set_session(0);
  bad[3].mutable_read_write_lock()->mutable_waiters(0)->set_amount(0);
  bad[4].mutable_read_write_lock()->mutable_waiters(0)->set_order(2);
  {
    auto* g = bad[5].mutable_read_write_lock()->add_grants();
    g->set_id(2);
    g->set_fence(2);
    g->set_session(3);
    g->set_mode(v1::WRITE);
  }
  for (size_t i = 0; i < bad.size(); ++i) {
    ReadWriteLockState m2;
    const absl::Status status = m2.Load(bad[i]);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << i;
    EXPECT_EQ(m2.grants(), 0u) << i;  // nothing half-loaded
  }
  EXPECT_EQ(kDataLoss, 15);
}

TEST_F(BrokerReadWriteLockTest, DescribeShowsGrantsWithFencesAndWaiters) {
  using testing::Holdings;
  using Lines = std::vector<std::string>;
  ASSERT_EQ(a_, 1u);
  ASSERT_EQ(d_, 4u);
  EXPECT_EQ(broker_.Describe("rw").summary(), "");  // not bound yet
  broker_.Apply(Acquire("READ", 1), a_);  // 1
  broker_.Apply(Acquire("READ", 2), b_);  // 2
  Wait("WRITE", c_, 3, 3);
  Wait("READ", d_, 4, 4);
  v1::PrimitiveInfo info = broker_.Describe("rw");
  EXPECT_EQ(info.summary(), "read by 2, 2 waiting");
  EXPECT_EQ(Holdings(info.holders()), (Lines{"1 | read | 1", "2 | read | 2"}));
  EXPECT_EQ(Holdings(info.waiters()), (Lines{"3 | write | 0", "4 | read | 0"}));

  Rw("release { mode: READ }", a_);  // 3
  Rw("release { mode: READ }", b_);  // 4: c writes
  info = broker_.Describe("rw");
  EXPECT_EQ(info.summary(), "written (fence 4), 1 waiting");
  EXPECT_EQ(Holdings(info.holders()), (Lines{"3 | write | 4"}));
  EXPECT_EQ(Holdings(info.waiters()), (Lines{"4 | read | 0"}));

  Rw("release { mode: WRITE }", c_);  // 5: d reads
  info = broker_.Describe("rw");
  EXPECT_EQ(info.summary(), "read by 1");
  EXPECT_EQ(Holdings(info.holders()), (Lines{"4 | read | 5"}));
  Rw("release { mode: READ }", d_);
  info = broker_.Describe("rw");
  EXPECT_EQ(info.summary(), "free");
  EXPECT_EQ(info.holders_size(), 0);
  EXPECT_EQ(info.waiters_size(), 0);
}

}  // namespace
}  // namespace atomix::broker
