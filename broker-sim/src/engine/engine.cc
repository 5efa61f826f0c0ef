// The engine: applying input records to the state machines and sessions.
#include "broker-sim/src/engine/engine.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/engine/session_ids.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/registry.h"

namespace atomix::broker {
namespace {


// The fence a write carries, or nullptr.
const v1::Fence* FenceOf(const v1::Request& request) {
  const PrimitiveSpec* spec = PrimitiveOf(request);
  return spec != nullptr && spec->fence_of != nullptr ? spec->fence_of(request)
                                                      : nullptr;
}

// Whether a request with a session may leave something the session owns.
bool MayOwn(const v1::Request& request) {
  const PrimitiveSpec* spec = PrimitiveOf(request);
  return spec != nullptr && spec->session_owned != nullptr &&
         spec->session_owned(request);
}

// Whether machines of this type may have deadlines.
bool HasTimers(v1::PrimitiveType type) {
  const PrimitiveSpec* spec = FindPrimitive(type);
  return spec != nullptr && spec->has_timers;
}

}  // namespace

Engine::Engine(Limits limits, Options options, EventSink* sink)
    : limits_(limits),
      session_id_base_(options.session_id_base),
      session_key_(std::move(options.session_key)),
      sink_(sink),
      revision_(options.first_revision) {}

void Engine::Apply(const atomix::log::v1::InputRecord& record,
                   RecordOutput& out) {
  const absl::Time now = absl::FromUnixMicros(record.now_us());
  switch (record.kind_case()) {
    case atomix::log::v1::InputRecord::kBatch: {
      const auto& requests = record.batch().requests();
      out.responses.resize(requests.size());
      std::vector<const v1::Request*> in;
      std::vector<v1::Response*> answers;
      in.reserve(requests.size());
      answers.reserve(requests.size());
      for (int i = 0; i < requests.size(); ++i) {
        in.push_back(&requests[i]);
        answers.push_back(&out.responses[i]);
      }
      Caller caller;
      caller.principal = record.batch().principal();
      caller.admin.assign(record.batch().admin().begin(),
                          record.batch().admin().end());
      ApplyBatch(now, record.batch().origin(), in, answers, caller, out.result);
      return;
    }
    case atomix::log::v1::InputRecord::kTick:
      Tick(now, out.result);
      return;
    case atomix::log::v1::InputRecord::kCancelOrigin:
      CancelOrigin(record.cancel_origin().origin());
      return;
    case atomix::log::v1::InputRecord::kExpireAll:
      ExpireAllSessions(now, out.result);
      return;
    case atomix::log::v1::InputRecord::kResume:
      // Restart every session's TTL first, so none expires for the time the
      // broker was down; then let time catch up.
      now_ = std::max(now_, now);
      sessions_.TouchAll(now_);
      AdvanceTo(now, out.result);
      return;
    case atomix::log::v1::InputRecord::KIND_NOT_SET:
      return;
  }
}

void Engine::ApplyBatch(absl::Time now, uint64_t origin,
                        absl::Span<const v1::Request* const> requests,
                        absl::Span<v1::Response* const> responses,
                        StoreResult& result) {
  ApplyBatch(now, origin, requests, responses, Caller(), result);
}

void Engine::ApplyBatch(absl::Time now, uint64_t origin,
                        absl::Span<const v1::Request* const> requests,
                        absl::Span<v1::Response* const> responses,
                        const Caller& caller, StoreResult& result) {
  const size_t n = std::min(requests.size(), responses.size());
  AdvanceTo(now, result);
  const uint64_t cap = limits_.max_batch_answer_bytes;
  uint64_t answered = 0;
  for (size_t i = 0; i < n; ++i) {
    if (cap != 0 && answered > cap) {
      RefuseOverAnswerCap(*requests[i], cap, revision_, *responses[i]);
      continue;
    }
    if (ApplyOne(*requests[i], origin, caller.principal, caller.AdminAt(i),
                 *responses[i], result)) {
      result.deferred.push_back(i);
    } else if (cap != 0) {
      answered += responses[i]->ByteSizeLong();
    }
  }
}

void Engine::Tick(absl::Time now, StoreResult& result) {
  AdvanceTo(now, result);
}

void Engine::ExpireAllSessions(absl::Time now, StoreResult& result) {
  AdvanceTo(now, result);
  for (uint64_t id : sessions_.Ids()) EndSession(id, result);
}

void RefuseOverAnswerCap(const v1::Request& request, uint64_t cap,
                         int64_t revision, v1::Response& response) {
  response.Clear();
  response.set_id(request.id());
  SetError(response, absl::StatusCode::kResourceExhausted,
           absl::StrCat("the answers of this batch passed ", cap,
                        " bytes (max_batch_answer_bytes, flag "
                        "--max-batch-answer-bytes); this request was not "
                        "applied: send it again in a later batch"));
  response.set_revision(revision);
}

bool AllReads(absl::Span<const v1::Request* const> requests) {
  for (const v1::Request* request : requests) {
    const PrimitiveSpec* spec = PrimitiveOf(*request);
    if (spec == nullptr || spec->is_read == nullptr || !spec->is_read(*request)) {
      return false;
    }
  }
  return true;
}

bool Engine::Read(absl::Span<const v1::Request* const> requests,
                  absl::Span<v1::Response* const> responses,
                  const std::string& principal) {
  if (!AllReads(requests)) return false;
  const size_t n = std::min(requests.size(), responses.size());
  const uint64_t cap = limits_.max_batch_answer_bytes;
  uint64_t answered = 0;
  for (size_t i = 0; i < n; ++i) {
    const v1::Request& request = *requests[i];
    v1::Response& response = *responses[i];
    if (cap != 0 && answered > cap) {
      RefuseOverAnswerCap(request, cap, revision_, response);
      continue;
    }
    ReadOne(request, principal, response);
    if (cap != 0) answered += response.ByteSizeLong();
  }
  return true;
}

void Engine::ReadOne(const v1::Request& request, const std::string& principal,
                     v1::Response& response) {
  response.set_id(request.id());
  response.set_revision(revision_);
  if (request.session_id() != 0) {
    const Sessions::Session* session = sessions_.Find(request.session_id());
    if (session == nullptr) {
      SetLostSession(response, request.session_id());
      return;
    }
    if (!CheckOwner(*session, principal, response)) return;
  }
  std::unique_ptr<StateMachine> fresh;
  StateMachine* machine = MachineFor(request, fresh, response);
  if (machine == nullptr) return;
  const ApplyContext ctx{.revision = revision_ + 1, .now = now_, .limits = limits_};
  machine->Apply(request, ctx, response);
  response.set_revision(revision_);
}

StateMachine* Engine::MachineFor(const v1::Request& request,
                                 std::unique_ptr<StateMachine>& fresh,
                                 v1::Response& response) {
  auto it = primitives_.find(request.name());
  if (it != primitives_.end()) {
    if (it->second->type() == request.type()) return it->second.get();
    SetWrongType(response, request.name(), it->second->type(), request.type());
    return nullptr;
  }
  fresh = NewStateMachine(request.type());
  if (fresh == nullptr) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("type ", static_cast<int>(request.type()),
                          " is not a primitive type"));
  }
  return fresh.get();
}

absl::Time Engine::NextDue() const {
  absl::Time due = absl::InfiniteFuture();
  if (const auto session = sessions_.Next()) due = session->first;
  if (!timers_.empty()) due = std::min(due, timers_.begin()->first);
  return due;
}

const StateMachine* Engine::Find(const std::string& name) const {
  auto it = primitives_.find(name);
  return it == primitives_.end() ? nullptr : it->second.get();
}

void Engine::Record(const std::string& name,
                    std::vector<v1::WatchEvent>& events) {
  if (events.empty()) return;
  if (sink_ != nullptr) sink_->Record(name, revision_, std::move(events));
  events.clear();
}

void Engine::AdvanceTo(absl::Time now, StoreResult& result) {
  now_ = std::max(now_, now);
  while (true) {
    const auto session = sessions_.Next();
    const bool session_due = session && session->first <= now_;
    const bool timer_due = !timers_.empty() && timers_.begin()->first <= now_;
    if (session_due && (!timer_due || session->first <= timers_.begin()->first)) {
      EndSession(session->second, result);
      continue;
    }
    if (!timer_due) break;
    const std::string name = timers_.begin()->second;
    timers_.erase(timers_.begin());
    scheduled_.erase(name);
    auto it = primitives_.find(name);
    if (it == primitives_.end()) continue;
    const ApplyContext ctx{
        .revision = revision_ + 1, .now = now_, .limits = limits_};
    ApplyResult step = it->second->Advance(ctx);
    if (step.mutated) revision_ = ctx.revision;
    Record(name, step.events);
    Complete(step.answers, result);
    Schedule(name, *it->second);
  }
}

void Engine::Complete(std::vector<Answer>& answers, StoreResult& result) {
  for (Answer& answer : answers) {
    if (!pending_.contains(answer.token)) continue;
    const Pending pending = TakePending(answer.token);
    answer.response.set_id(pending.request_id);
    answer.response.set_revision(revision_);
    if (Sessions::Session* session = sessions_.Find(pending.session)) {
      session->pending.erase(pending.sequence);
      sessions_.Remember(*session, pending.sequence, answer.response);
    }
    result.completions.push_back(
        Completion{pending.origin, std::move(answer.response)});
  }
}

void Engine::AddPending(uint64_t token, Pending pending) {
  auto machine = primitives_.find(pending.name);
  pending.lock_waiter =
      machine != primitives_.end() &&
      (machine->second->type() == v1::LOCK ||
       machine->second->type() == v1::READ_WRITE_LOCK);
  if (pending.lock_waiter) ++lock_waiters_;
  by_origin_[{pending.origin, pending.request_id}] = token;
  pending_[token] = std::move(pending);
}

void Engine::Readdress(uint64_t token, uint64_t origin,
                            uint64_t request_id) {
  Pending& pending = pending_.at(token);
  auto it = by_origin_.find({pending.origin, pending.request_id});
  if (it != by_origin_.end() && it->second == token) by_origin_.erase(it);
  pending.origin = origin;
  pending.request_id = request_id;
  by_origin_[{origin, request_id}] = token;
}

Engine::Pending Engine::TakePending(uint64_t token) {
  auto found = pending_.find(token);
  Pending pending = std::move(found->second);
  pending_.erase(found);
  if (pending.lock_waiter) --lock_waiters_;
  auto it = by_origin_.find({pending.origin, pending.request_id});
  if (it != by_origin_.end() && it->second == token) by_origin_.erase(it);
  return pending;
}

void Engine::Schedule(const std::string& name,
                           const StateMachine& machine) {
  if (!HasTimers(machine.type())) return;
  const absl::Time next = machine.NextDeadline();
  auto it = scheduled_.find(name);
  if (it != scheduled_.end()) {
    if (it->second == next) return;
    timers_.erase({it->second, name});
    scheduled_.erase(it);
  }
  if (next != absl::InfiniteFuture()) {
    timers_.emplace(next, name);
    scheduled_[name] = next;
  }
}

bool Engine::CheckFence(const v1::Request& request,
                             v1::Response& response) {
  const v1::Fence* fence = FenceOf(request);
  if (fence == nullptr) return true;
  auto it = primitives_.find(fence->lock());
  std::string holder = QuoteName(fence->lock());
  int64_t current = 0;
  if (it != primitives_.end()) {
    const StateMachine& machine = *it->second;
    const PrimitiveSpec* spec = FindPrimitive(machine.type());
    if (spec == nullptr || !spec->grants_fences) {
      SetError(response, absl::StatusCode::kFailedPrecondition,
               absl::StrCat("fence names ", holder, ", ",
                            ATypeName(machine.type()), ", which grants no fences"),
               0);
      return false;
    }
    if (machine.FenceHolds(fence->version())) return true;
    current = machine.NewestFence();
    holder = absl::StrCat(spec->name, " ", holder);
  }
  SetError(response, absl::StatusCode::kFailedPrecondition,
           absl::StrCat("fence ", fence->version(), " of ", holder,
                        " no longer holds it; ",
                        current == 0 ? std::string("nothing holds it")
                                     : absl::StrCat("its newest fence is ", current)),
           current);
  return false;
}

bool Engine::ApplyOne(const v1::Request& request, uint64_t origin,
                      const std::string& principal, bool admin,
                      v1::Response& response, StoreResult& result) {
  response.set_id(request.id());
  if (request.has_session()) {
    ApplySession(request, principal, response, result);
    return false;
  }
  if (request.has_cancel()) {
    ApplyCancel(request, origin, principal, response, result);
    return false;
  }
  Sessions::Session* session = nullptr;
  const uint64_t sequence = request.sequence();
  if (request.session_id() != 0) {
    session = sessions_.Find(request.session_id());
    if (session == nullptr) {
      SetLostSession(response, request.session_id());
      response.set_revision(revision_);
      return false;
    }
    if (!CheckOwner(*session, principal, response)) return false;
    sessions_.Touch(*session, now_);
    sessions_.Acknowledge(*session, request.ack_sequence());
    const v1::Response* cached = nullptr;
    uint64_t pending_token = 0;
    const Sessions::Replay replay = sessions_.Check(
        *session, sequence,
        Sessions::Caps{.max_unacked = limits_.max_unacked_responses,
                       .max_bytes = limits_.max_unacked_bytes,
                       .max_total_bytes = limits_.max_unacked_bytes_total},
        &cached, &pending_token);
    switch (replay) {
      case Sessions::Replay::kAnswered:
        response = *cached;
        response.set_id(request.id());
        return false;
      case Sessions::Replay::kPending: {
        // A retry of a request that still waits: answer it here instead.
        Readdress(pending_token, origin, request.id());
        return true;
      }
      case Sessions::Replay::kAcknowledged:
        SetError(response, absl::StatusCode::kInvalidArgument,
                 absl::StrCat("session ", session->id, ": sequence ", sequence,
                              " was already acknowledged (ack_sequence ",
                              session->acked, ")"));
        response.set_revision(revision_);
        return false;
      case Sessions::Replay::kFull:
      case Sessions::Replay::kFullBytes:
      case Sessions::Replay::kFullTotal:
        CheckReplayRoom(replay, *session, sequence, false, response);
        return false;
      case Sessions::Replay::kApply:
        break;
    }
  }

  if (request.has_txn()) {
    ApplyTxn(request, session, response);
    response.set_revision(revision_);
    if (session != nullptr) sessions_.Remember(*session, sequence, response);
    return false;
  }

  const uint64_t token = next_token_++;
  const ApplyContext ctx{.revision = revision_ + 1,
                         .now = now_,
                         .limits = limits_,
                         .token = token};
  ApplyResult step;
  StateMachine* machine = nullptr;
  std::unique_ptr<StateMachine> fresh;
  bool run = false;
  machine = MachineFor(request, fresh, response);
  if (machine != nullptr && fresh != nullptr) {
    // A name not bound yet: an open binds it, and so may any request but a
    // read (whether it does is known only once applied).
    const PrimitiveSpec* spec = PrimitiveOf(request);
    const bool read = !request.has_open() && spec != nullptr &&
                      spec->is_read != nullptr && spec->is_read(request);
    if (!read && !NamespaceHasRoom(request.name(), 1, response)) {
      machine = nullptr;
    }
  }
  if (machine != nullptr && fresh == nullptr) {
    const uint64_t holder = machine->FenceReleaseHolder(request);
    if (holder != 0 && holder != request.session_id() && !admin) {
      SetError(response, absl::StatusCode::kPermissionDenied,
               absl::StrCat(PrincipalName(principal),
                            " lacks the admin right on ",
                            QuoteName(request.name()),
                            ": releasing a grant of another session by its "
                            "fence needs it"));
      machine = nullptr;
    }
  }
  if (machine != nullptr && request.has_open()) {
    response.mutable_open()->set_created(fresh != nullptr);
    if (fresh != nullptr) Bind(request.name(), std::move(fresh));
  } else if (machine != nullptr) {
    run = true;
  }
  if (run && CheckFence(request, response)) {
    step = machine->Apply(request, ctx, response);
    // Unknown names read as empty; only a mutation (or a waiter) binds one.
    if (fresh != nullptr && (step.mutated || step.deferred)) {
      Bind(request.name(), std::move(fresh));
    }
  }
  if (step.mutated) revision_ = ctx.revision;
  Record(request.name(), step.events);
  if (machine == nullptr) {
    // Refused before anything was applied; remembered for retries like
    // every answer.
    response.set_revision(revision_);
    if (session != nullptr) sessions_.Remember(*session, sequence, response);
    return false;
  }
  if (fresh == nullptr && run) {
    if (session != nullptr && MayOwn(request)) {
      session->resources.insert(request.name());
    }
    Schedule(request.name(), *machine);
  }
  if (step.deferred) {
    AddPending(token, Pending{origin, request.id(), request.session_id(),
                              sequence, request.name()});
    if (session != nullptr && sequence != 0) {
      session->pending[sequence] = token;
    }
  } else {
    response.set_revision(revision_);
    if (session != nullptr) sessions_.Remember(*session, sequence, response);
  }
  Complete(step.answers, result);
  return step.deferred;
}

}  // namespace atomix::broker
