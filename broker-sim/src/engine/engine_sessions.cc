// The engine, the session side: opening, keeping alive and ending sessions,
// and withdrawing waiting requests (an origin that went away, or a
// CancelRequest from a caller that gave up).
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/engine/engine.h"
#include "broker-sim/src/state/registry.h"

namespace atomix::broker {
namespace {

v1::Response CancelledAnswer(const char* why) {
  v1::Response response;
  SetError(response, absl::StatusCode::kCancelled, why);
  return response;
}

}  // namespace

// A waiting request of a live session whose primitive keeps it when its
// stream closes (PrimitiveSpec::waits_outlive_streams): it stays until it is
// answered, times out, is cancelled, or its session ends; a resend after a
// reconnect finds it again.
bool Engine::OutlivesStream(const Pending& pending) const {
  if (pending.session == 0 || sessions_.Find(pending.session) == nullptr) {
    return false;
  }
  auto it = primitives_.find(pending.name);
  if (it == primitives_.end()) return false;
  const PrimitiveSpec* spec = FindPrimitive(it->second->type());
  return spec != nullptr && spec->waits_outlive_streams;
}

void Engine::CancelOrigin(uint64_t origin) {
  std::vector<uint64_t> tokens;
  for (auto it = by_origin_.lower_bound({origin, 0});
       it != by_origin_.end() && it->first.first == origin; ++it) {
    if (!OutlivesStream(pending_.at(it->second))) tokens.push_back(it->second);
  }
  StoreResult ignored;
  for (uint64_t token : tokens) Withdraw(token, nullptr, ignored);
}

void Engine::Withdraw(uint64_t token, const v1::Response* answer,
                           StoreResult& result) {
  if (!pending_.contains(token)) return;
  const Pending pending = TakePending(token);
  Sessions::Session* session = sessions_.Find(pending.session);
  if (session != nullptr) session->pending.erase(pending.sequence);
  auto it = primitives_.find(pending.name);
  if (it != primitives_.end()) {
    it->second->Cancel(token);
    Schedule(pending.name, *it->second);
  }
  if (answer == nullptr) return;
  v1::Response response = *answer;
  response.set_id(pending.request_id);
  response.set_revision(revision_);
  if (session != nullptr) {
    sessions_.Remember(*session, pending.sequence, response);
  }
  result.completions.push_back(
      Completion{pending.origin, std::move(response)});
}

void Engine::ApplyCancel(const v1::Request& request, uint64_t origin,
                         const std::string& principal, v1::Response& response,
                         StoreResult& result) {
  const v1::CancelRequest& op = request.cancel();
  v1::CancelResponse* out = response.mutable_cancel();
  response.set_revision(revision_);
  if (op.sequence() == 0) {
    // By request id, among this origin's waiting requests.
    auto it = by_origin_.find({origin, op.request_id()});
    if (it == by_origin_.end()) return;
    const v1::Response cancelled = CancelledAnswer("cancelled by the client");
    Withdraw(it->second, &cancelled, result);
    out->set_cancelled(true);
    return;
  }
  Sessions::Session* session = sessions_.Find(request.session_id());
  if (session == nullptr) {
    response.clear_cancel();
    SetLostSession(response, request.session_id());
    return;
  }
  if (!CheckOwner(*session, principal, response)) return;
  sessions_.Touch(*session, now_);
  sessions_.Acknowledge(*session, request.ack_sequence());
  const uint64_t sequence = op.sequence();
  const v1::Response* cached = nullptr;
  uint64_t token = 0;
  const Sessions::Replay replay = sessions_.Check(
      *session, sequence,
      Sessions::Caps{.max_unacked = limits_.max_unacked_responses,
                     .max_bytes = limits_.max_unacked_bytes,
                     .max_total_bytes = limits_.max_unacked_bytes_total},
      &cached, &token);
  switch (replay) {
    case Sessions::Replay::kAnswered:
      *out->mutable_answer() = *cached;
      return;
    case Sessions::Replay::kPending: {
      const v1::Response cancelled = CancelledAnswer("cancelled by the client");
      Withdraw(token, &cancelled, result);
      out->set_cancelled(true);
      return;
    }
    case Sessions::Replay::kAcknowledged:
      // Forgotten: whatever happened to it, the client already knew.
      return;
    case Sessions::Replay::kFull:
    case Sessions::Replay::kFullBytes:
    case Sessions::Replay::kFullTotal:
      CheckReplayRoom(replay, *session, sequence, true, response);
      return;
    case Sessions::Replay::kApply:
      // Not arrived yet: remember it as cancelled, so that it is answered
      // CANCELLED and never applied when it does. The tombstone counts
      // against the session's exactly-once memory like any answer.
      sessions_.Remember(
          *session, sequence,
          CancelledAnswer("cancelled by the client before it arrived"));
      out->set_cancelled(true);
      return;
  }
}

void Engine::EndSession(uint64_t id, StoreResult& result) {
  Sessions::Session* session = sessions_.Find(id);
  if (session == nullptr) return;
  const ApplyContext ctx{
      .revision = revision_ + 1, .now = now_, .limits = limits_};
  std::vector<Answer> answers;
  std::vector<std::pair<const std::string*, std::vector<v1::WatchEvent>>>
      events;
  bool changed = false;
  for (const std::string& name : session->resources) {
    auto it = primitives_.find(name);
    if (it == primitives_.end()) continue;
    ApplyResult step = it->second->EndSession(id, ctx);
    changed = changed || step.mutated;
    for (Answer& answer : step.answers) answers.push_back(std::move(answer));
    if (!step.events.empty()) {
      events.emplace_back(&name, std::move(step.events));
    }
    Schedule(name, *it->second);
  }
  // One revision for everything the session's end changed; none if it
  // owned nothing.
  if (changed) revision_ = ctx.revision;
  for (auto& [name, name_events] : events) Record(*name, name_events);
  sessions_.Erase(id);
  Complete(answers, result);
}

void Engine::ApplySession(const v1::Request& request,
                          const std::string& principal,
                          v1::Response& response, StoreResult& result) {
  const v1::SessionRequest& op = request.session();
  v1::SessionResponse* out = nullptr;
  if (op.has_open()) {
    Sessions::Session* again = sessions_.FindByNonce(op.open().nonce());
    if (again != nullptr && again->principal != principal) {
      // Never hand out another principal's session, not even its id.
      SetError(response, absl::StatusCode::kPermissionDenied,
               absl::StrCat(PrincipalName(principal), " may not open a "
                            "session with nonce ", op.open().nonce(),
                            ": another principal's session uses it"));
      response.set_revision(revision_);
      return;
    }
    if (again != nullptr) {
      // A repeated open whose first answer was lost: the same session.
      sessions_.Touch(*again, now_);
      out = response.mutable_session();
      out->set_session_id(again->id);
      out->set_ttl_ms(absl::ToInt64Milliseconds(again->ttl));
      response.set_revision(revision_);
      return;
    }
    const int64_t ttl_ms = op.open().ttl_ms() == 0
                               ? limits_.default_session_ttl_ms
                               : op.open().ttl_ms();
    if (limits_.max_sessions != 0 &&
        sessions_.size() >= limits_.max_sessions) {
      SetError(response, absl::StatusCode::kResourceExhausted,
               absl::StrCat("the broker has ", sessions_.size(),
                            " sessions open, the limit max_sessions (flag "
                            "--max-sessions); no session was opened"));
      response.set_revision(revision_);
      return;
    }
    if (limits_.max_sessions_per_principal != 0 &&
        sessions_.CountOf(principal) >= limits_.max_sessions_per_principal) {
      SetError(response, absl::StatusCode::kResourceExhausted,
               absl::StrCat(PrincipalName(principal), " has ",
                            sessions_.CountOf(principal),
                            " sessions open, the limit "
                            "max_sessions_per_principal (flag "
                            "--max-sessions-per-principal); no session was "
                            "opened"));
      response.set_revision(revision_);
      return;
    }
    const uint64_t id = NextSessionId();
    sessions_.Open(id, absl::Milliseconds(ttl_ms), now_, op.open().nonce(),
                   principal);
    out = response.mutable_session();
    out->set_session_id(id);
    out->set_ttl_ms(ttl_ms);
  } else {
    const uint64_t id = request.session_id();
    Sessions::Session* session = sessions_.Find(id);
    if (session == nullptr) {
      SetLostSession(response, id);
    } else if (CheckOwner(*session, principal, response)) {
      const int64_t ttl_ms = absl::ToInt64Milliseconds(session->ttl);
      if (op.has_close()) {
        EndSession(id, result);
      } else {
        sessions_.Touch(*session, now_);
        sessions_.Acknowledge(*session, request.ack_sequence());
      }
      out = response.mutable_session();
      out->set_session_id(id);
      out->set_ttl_ms(ttl_ms);
    }
  }
  response.set_revision(revision_);
}

}  // namespace atomix::broker
