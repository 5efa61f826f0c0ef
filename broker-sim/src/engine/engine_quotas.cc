// The engine, the security side: who owns a session, how session ids are
// drawn, and the quotas that refuse a request before anything is applied.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/engine/engine.h"
#include "broker-sim/src/engine/session_ids.h"
#include "broker-sim/src/state/errors.h"

namespace atomix::broker {

std::string NamespaceOf(const std::string& name) {
  const size_t slash = name.find('/');
  return slash == std::string::npos ? std::string() : name.substr(0, slash + 1);
}

std::string PrincipalName(const std::string& principal) {
  return principal.empty() ? std::string("the anonymous principal")
                           : absl::StrCat("principal ", QuoteName(principal));
}

bool Engine::CheckOwner(const Sessions::Session& session,
                        const std::string& principal,
                        v1::Response& response) const {
  if (session.principal == principal) return true;
  response.clear_result();
  SetError(response, absl::StatusCode::kPermissionDenied,
           absl::StrCat(PrincipalName(principal), " may not use session ",
                        session.id, ": another principal opened it"));
  response.set_revision(revision_);
  return false;
}

bool Engine::CheckReplayRoom(Sessions::Replay replay,
                             const Sessions::Session& session,
                             uint64_t sequence, bool cancel,
                             v1::Response& response) const {
  std::string why;
  switch (replay) {
    case Sessions::Replay::kFull:
      why = absl::StrCat("session ", session.id, " has ",
                         limits_.max_unacked_responses,
                         " unacknowledged responses");
      break;
    case Sessions::Replay::kFullBytes:
      why = absl::StrCat("session ", session.id, " remembers ",
                         session.remembered_bytes,
                         " bytes of unacknowledged responses, at or above "
                         "max_unacked_bytes ",
                         limits_.max_unacked_bytes,
                         " (flag --max-unacked-bytes)");
      break;
    case Sessions::Replay::kFullTotal:
      why = absl::StrCat("all sessions together remember ",
                         sessions_.remembered_bytes(),
                         " bytes of unacknowledged responses, at or above "
                         "max_unacked_bytes_total ",
                         limits_.max_unacked_bytes_total,
                         " (flag --max-unacked-bytes-total)");
      break;
    default:
      return true;
  }
  response.clear_result();
  SetError(response, absl::StatusCode::kResourceExhausted,
           cancel ? absl::StrCat(why, "; cannot remember sequence ", sequence,
                                 " as cancelled")
                  : absl::StrCat(why, "; acknowledge some with ack_sequence "
                                      "first"));
  response.set_revision(revision_);
  return false;
}

uint64_t Engine::NextSessionId() {
  while (true) {
    const uint64_t counter = ++sessions_opened_;
    const uint64_t id = session_key_.empty()
                            ? session_id_base_ + counter
                            : SessionIdFor(session_key_, counter);
    if (id != 0 && sessions_.Find(id) == nullptr) return id;
  }
}

bool Engine::NamespaceHasRoom(const std::string& name, size_t extra,
                              v1::Response& response) const {
  const uint64_t max = limits_.max_primitives_per_namespace;
  if (max == 0) return true;
  const std::string ns = NamespaceOf(name);
  auto it = namespaces_.find(ns);
  const size_t count = it == namespaces_.end() ? 0 : it->second;
  if (count + extra <= max) return true;
  response.clear_result();
  SetError(response, absl::StatusCode::kResourceExhausted,
           absl::StrCat("namespace ", QuoteName(ns), " already holds ", count,
                        " primitives, the limit max_primitives_per_namespace "
                        "(flag --max-primitives-per-namespace); ",
                        QuoteName(name), " was not created"));
  response.set_revision(revision_);
  return false;
}

void Engine::Bind(const std::string& name,
                  std::unique_ptr<StateMachine> machine) {
  if (primitives_.emplace(name, std::move(machine)).second) {
    ++namespaces_[NamespaceOf(name)];
  }
}

void SetBatch(atomix::log::v1::InputRecord& record, uint64_t origin,
              absl::Span<const v1::Request* const> requests,
              const Caller& caller) {
  auto* batch = record.mutable_batch();
  batch->set_origin(origin);
  auto* out = batch->mutable_requests();
  out->Reserve(static_cast<int>(requests.size()));
  for (const v1::Request* r : requests) *out->Add() = *r;
  batch->set_principal(caller.principal);
  // Empty when the caller has admin on every name (the common case).
  bool everywhere = true;
  for (size_t i = 0; i < requests.size(); ++i) {
    everywhere = everywhere && caller.AdminAt(i);
  }
  if (!everywhere) {
    for (size_t i = 0; i < requests.size(); ++i) {
      batch->add_admin(caller.AdminAt(i));
    }
  }
}

}  // namespace atomix::broker
