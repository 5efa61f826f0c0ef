// Test helpers: requests written as protobuf text, and a driver that runs one
// state machine the way the store does (revision + 1 per mutation, fixed
// logical time). Header-only; for tests, never for the broker itself.
//
//   StateDriver counter(v1::COUNTER);
//   v1::Response r = counter.Apply(R"pb(counter { add { delta: 5 } })pb");
//
// Thread-safety: none.
#ifndef ATOMIX_BROKER_TESTING_REQUESTS_H_
#define ATOMIX_BROKER_TESTING_REQUESTS_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/state/limits.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/store/memory_store.h"
#include "google/protobuf/text_format.h"

namespace atomix::broker::testing {

// Parses a v1::Request from protobuf text; aborts the test binary on a typo.
inline v1::Request ParseRequest(const std::string& text) {
  v1::Request request;
  if (!google::protobuf::TextFormat::ParseFromString(text, &request)) {
    std::fprintf(stderr, "bad request text: %s\n", text.c_str());
    std::abort();
  }
  return request;
}

// A request on `name` of `type`, with the operation given as text.
inline v1::Request MakeRequest(v1::PrimitiveType type, const std::string& name,
                               const std::string& op_text, uint64_t id = 0) {
  v1::Request request = ParseRequest(op_text);
  request.set_type(type);
  request.set_name(name);
  request.set_id(id);
  return request;
}

// The fixed logical time the drivers use.
// A lock acquire on `name` that waits at most `timeout_ms` (0: no limit).
inline v1::Request LockAcquire(const std::string& name, uint64_t id,
                               int64_t timeout_ms = 0) {
  v1::Request request = MakeRequest(v1::LOCK, name, "lock { acquire {} }", id);
  request.set_timeout_ms(timeout_ms);
  return request;
}

// Holders or waiters of a Describe as "session | what | fence" lines, for
// exact comparisons: {"5 | lock | 12", "6 | lock | 0"}.
inline std::vector<std::string> Holdings(
    const google::protobuf::RepeatedPtrField<v1::Holding>& holdings) {
  std::vector<std::string> out;
  for (const v1::Holding& h : holdings) {
    out.push_back(absl::StrCat(h.session(), " | ", h.what(), " | ", h.fence()));
  }
  return out;
}

inline absl::Time TestNow() { return absl::FromUnixSeconds(1'700'000'000); }

class StateDriver {
 public:
  explicit StateDriver(v1::PrimitiveType type, std::string name = "p",
                       Limits limits = {})
      : type_(type),
        name_(std::move(name)),
        limits_(limits),
        machine_(NewStateMachine(type)) {}

  // Applies `op_text` (e.g. `map { put { key: "a" value: "x" } }`).
  v1::Response Apply(const std::string& op_text) {
    return ApplyRequest(MakeRequest(type_, name_, op_text));
  }

  v1::Response ApplyRequest(const v1::Request& request) {
    v1::Response response;
    const ApplyContext ctx{
        .revision = revision_ + 1, .now = TestNow(), .limits = limits_};
    last_ = machine_->Apply(request, ctx, response);
    if (last_.mutated) revision_ = ctx.revision;
    response.set_revision(revision_);
    return response;
  }

  int64_t revision() const { return revision_; }
  bool last_mutated() const { return last_.mutated; }
  // The watch events of the last step.
  const std::vector<v1::WatchEvent>& last_events() const {
    return last_.events;
  }
  // Ends `session` in a step of its own, as the store does.
  void EndSession(uint64_t session) {
    const ApplyContext ctx{
        .revision = revision_ + 1, .now = TestNow(), .limits = limits_};
    last_ = machine_->EndSession(session, ctx);
    if (last_.mutated) revision_ = ctx.revision;
  }
  // Runs one due deadline at `now`, as the store does.
  void Advance(absl::Time now) {
    const ApplyContext ctx{
        .revision = revision_ + 1, .now = now, .limits = limits_};
    last_ = machine_->Advance(ctx);
    if (last_.mutated) revision_ = ctx.revision;
  }
  // The machine's snapshot, with `filter`.
  v1::WatchSnapshot Snapshot(const WatchFilter& filter = {}) const {
    v1::WatchSnapshot snapshot;
    machine_->Snapshot(filter, snapshot);
    return snapshot;
  }
  // The machine's operators' view (StateMachine::Describe).
  v1::PrimitiveInfo Describe() const {
    v1::PrimitiveInfo info;
    machine_->Describe(info);
    return info;
  }
  StateMachine& machine() { return *machine_; }
  Limits& limits() { return limits_; }

 private:
  v1::PrimitiveType type_;
  std::string name_;
  Limits limits_;
  std::unique_ptr<StateMachine> machine_;
  int64_t revision_ = 0;
  ApplyResult last_;
};

// A Broker over a MemoryStore on a fake logical clock, as the server drives
// it: requests from numbered origins, late answers collected as
// completions, time moved by Advance (which ticks the store).
//
//   BrokerDriver broker;
//   uint64_t s = broker.OpenSession();
//   broker.Apply(MakeRequest(v1::LOCK, "l", "lock { acquire {} }"), s);
//   broker.Advance(absl::Seconds(1));
class BrokerDriver {
 public:
  explicit BrokerDriver(Limits limits = {})
      : store_(new MemoryStore(limits, [this] { return now_; })),
        broker_(std::unique_ptr<Store>(store_), limits) {}

  // Applies `request` with `session` (0: none) and `sequence`, from
  // `origin`. Returns the response; last_deferred() tells whether the
  // request waits instead (the response is then empty).
  v1::Response Apply(v1::Request request, uint64_t session = 0,
                     uint64_t sequence = 0, uint64_t origin = 1) {
    request.set_session_id(session);
    request.set_sequence(sequence);
    v1::Response response;
    last_deferred_ =
        !broker_.Execute(request, origin, response, completions_);
    return response;
  }

  // A request on `name` of `type`, as MakeRequest, applied at once.
  v1::Response Apply(v1::PrimitiveType type, const std::string& name,
                     const std::string& op_text, uint64_t session = 0,
                     uint64_t sequence = 0, uint64_t origin = 1,
                     uint64_t id = 0) {
    return Apply(MakeRequest(type, name, op_text, id), session, sequence,
                 origin);
  }

  // Opens a session; returns its id (0 on failure).
  uint64_t OpenSession(int64_t ttl_ms = 0) {
    v1::Request request = ParseRequest(
        "session { open { ttl_ms: " + std::to_string(ttl_ms) + " } }");
    return Apply(request).session().session_id();
  }
  v1::Response Session(const std::string& op_text, uint64_t session) {
    return Apply(ParseRequest("session { " + op_text + " }"), session);
  }

  // Moves the fake clock forward and ticks the broker.
  void Advance(absl::Duration d) {
    now_ += d;
    broker_.Tick(now_, completions_);
  }
  // Moves the fake clock forward without ticking.
  void MoveClock(absl::Duration d) { now_ += d; }
  void ExpireAllSessions() { broker_.ExpireAllSessions(completions_); }
  void Cancel(uint64_t origin) { broker_.Cancel(origin); }

  // Completions collected so far; clears them.
  std::vector<Completion> TakeCompletions() {
    return std::exchange(completions_, {});
  }

  // The operators' view of primitive `name`, as Admin.ListPrimitives shows
  // it (empty if there is no such primitive).
  v1::PrimitiveInfo Describe(const std::string& name) {
    v1::ListPrimitivesRequest request;
    request.set_prefix(name);
    request.set_limit(1000);
    v1::ListPrimitivesResponse page;
    store_->ListPrimitives(request, page);
    for (const v1::PrimitiveInfo& info : page.primitives()) {
      if (info.name() == name) return info;
    }
    return {};
  }

  bool last_deferred() const { return last_deferred_; }
  int64_t revision() const { return store_->revision(); }
  absl::Time now() const { return now_; }
  MemoryStore& store() { return *store_; }
  Broker& broker() { return broker_; }

 private:
  absl::Time now_ = TestNow();
  MemoryStore* store_;  // owned by broker_
  Broker broker_;
  std::vector<Completion> completions_;
  bool last_deferred_ = false;
};

}  // namespace atomix::broker::testing

#endif  // ATOMIX_BROKER_TESTING_REQUESTS_H_
