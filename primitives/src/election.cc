#include "atomix/election.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "primitives/src/request.h"
#include "sdk/src/client_core.h"

namespace atomix {
namespace {

using internal::PrimitiveKind;

std::string SessionCandidateID(uint64_t session) {
  return session == 0 ? std::string() : absl::StrCat("session-", session);
}

absl::Status EmptyCandidate(const std::string& name) {
  return absl::InvalidArgumentError(absl::StrCat("election \"", name, "\": candidate id is empty"));
}

Term FromWire(v1::Term& wire) {
  Term term;
  term.leader = std::move(*wire.mutable_leader());
  term.term = wire.term();
  term.candidates.reserve(wire.candidates_size());
  for (std::string& c : *wire.mutable_candidates()) term.candidates.push_back(std::move(c));
  return term;
}

// Sends one election op; `fill` sets it on the ElectionRequest.
template <class Fill>
absl::StatusOr<Term> CallElection(internal::ClientCore* core, const std::string& name,
                                  const char* op_name, const CallOptions& options, bool idempotent,
                                  Fill fill) {
  if (core == nullptr) return internal::NoCore();
  v1::Request request = internal::NewRequest(PrimitiveKind::kElection, name);
  fill(*request.mutable_election());
  absl::StatusOr<v1::Response> response = core->Call(std::move(request), options, idempotent);
  if (!response.ok()) return response.status();
  if (!response->has_election()) {
    return internal::MissingResult(PrimitiveKind::kElection, name, op_name);
  }
  return FromWire(*response->mutable_election()->mutable_term());
}

}  // namespace

std::string Election::ID() const {
  if (!candidate_id_.empty()) return candidate_id_;
  if (core_ == nullptr) return std::string();
  return SessionCandidateID(core_->session_id());
}

absl::StatusOr<std::string> Election::ResolveID(const CallOptions& options) const {
  if (core_ == nullptr) return internal::NoCore();
  std::string id = ID();
  if (!id.empty()) return id;
  // No session yet: the client opens one once connected.
  auto deadline = internal::EffectiveDeadline(
      options,
      std::chrono::duration_cast<std::chrono::nanoseconds>(core_->options().default_call_timeout));
  absl::Status connected = core_->WaitConnected(deadline);
  if (!connected.ok()) return connected;
  id = ID();
  if (id.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "election \"", name_, "\": the client has no session to derive a candidate id from"));
  }
  return id;
}

absl::StatusOr<Term> Election::Enter(const CallOptions& options) const {
  auto id = ResolveID(options);
  if (!id.ok()) return id.status();
  return CallElection(core_.get(), name_, "enter", options, /*idempotent=*/false,
                      [&](v1::ElectionRequest& op) { op.mutable_enter()->set_candidate_id(*id); });
}

absl::StatusOr<Term> Election::Leave(const CallOptions& options) const {
  auto id = ResolveID(options);
  if (!id.ok()) return id.status();
  return CallElection(core_.get(), name_, "leave", options, /*idempotent=*/false,
                      [&](v1::ElectionRequest& op) { op.mutable_leave()->set_candidate_id(*id); });
}

absl::StatusOr<Term> Election::Anoint(std::string_view id, const CallOptions& options) const {
  if (id.empty()) return EmptyCandidate(name_);
  return CallElection(
      core_.get(), name_, "anoint", options, /*idempotent=*/false,
      [&](v1::ElectionRequest& op) { op.mutable_anoint()->set_candidate_id(std::string(id)); });
}

absl::StatusOr<Term> Election::Promote(std::string_view id, const CallOptions& options) const {
  if (id.empty()) return EmptyCandidate(name_);
  return CallElection(
      core_.get(), name_, "promote", options, /*idempotent=*/false,
      [&](v1::ElectionRequest& op) { op.mutable_promote()->set_candidate_id(std::string(id)); });
}

absl::StatusOr<Term> Election::Demote(std::string_view id, const CallOptions& options) const {
  if (id.empty()) return EmptyCandidate(name_);
  return CallElection(
      core_.get(), name_, "demote", options, /*idempotent=*/false,
      [&](v1::ElectionRequest& op) { op.mutable_demote()->set_candidate_id(std::string(id)); });
}

absl::StatusOr<Term> Election::Evict(std::string_view id, const CallOptions& options) const {
  if (id.empty()) return EmptyCandidate(name_);
  return CallElection(
      core_.get(), name_, "evict", options, /*idempotent=*/false,
      [&](v1::ElectionRequest& op) { op.mutable_evict()->set_candidate_id(std::string(id)); });
}

absl::StatusOr<Term> Election::GetTerm(const CallOptions& options) const {
  return CallElection(core_.get(), name_, "get_term", options, /*idempotent=*/true,
                      [](v1::ElectionRequest& op) { op.mutable_get_term(); });
}

namespace internal {

absl::StatusOr<Election> GetElection(std::shared_ptr<ClientCore> core, std::string_view name,
                                     const ElectionOptions& options) {
  absl::Status opened = OpenPrimitive(core, PrimitiveKind::kElection, name, options);
  if (!opened.ok()) return opened;
  return Election(std::move(core), std::string(name), options.candidate_id);
}

}  // namespace internal

absl::StatusOr<Election> GetElection(const Client& client, std::string_view name,
                                     const ElectionOptions& options) {
  return internal::GetElection(internal_core(client), name, options);
}

absl::StatusOr<Election> GetElection(std::string_view name, const ElectionOptions& options) {
  return GetElection(DefaultClient(), name, options);
}

}  // namespace atomix
