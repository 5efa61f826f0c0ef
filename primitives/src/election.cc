#include "atomix/election.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "atomix/internal/watch_core.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix {
namespace {

constexpr internal::PrimitiveKind kElectionKind{v1::ELECTION, "election"};
constexpr internal::OpWire<v1::ElectionRequest, v1::ElectionResponse> kElectionWire{
    kElectionKind, &v1::Request::mutable_election, &v1::Response::has_election,
    &v1::Response::mutable_election};

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
Future<Term> SendElection(internal::ClientCore* core, const std::string& name, const char* op_name,
                          const CallOptions& options, bool idempotent, Fill fill) {
  if (core == nullptr) return internal::Refused<Term>(nullptr, internal::NoCore());
  v1::ElectionRequest op;
  fill(op);
  return internal::CallOp<Term>(
      *core, kElectionWire, name, std::move(op), op_name, options,
      internal::CallKind{.idempotent = idempotent},
      [](v1::ElectionResponse& r) { return FromWire(*r.mutable_term()); });
}

// Watch events carry a v1::Term detail. Remembers the last Term delivered,
// so that a resync repeats nothing.
struct ElectionDecoder {
  std::optional<Term> last;

  absl::Status Events(std::vector<internal::RawWatchEvent>& raw, std::vector<Term>& out) {
    for (internal::RawWatchEvent& r : raw) {
      v1::Term wire;
      if (!r.detail.has_value() || !wire.ParseFromString(*r.detail))
        return internal::BadWatchDetail(kElectionKind, r.revision);
      last = FromWire(wire);
      out.push_back(*last);
    }
    return absl::OkStatus();
  }
  absl::Status Snapshot(internal::RawSnapshot& raw, std::vector<Term>& out) {
    v1::Term wire;
    if (!raw.detail.has_value() || !wire.ParseFromString(*raw.detail))
      return internal::BadWatchDetail(kElectionKind, raw.revision);
    Term term = FromWire(wire);
    if (!raw.replay && last.has_value() && *last == term) return absl::OkStatus();
    last = term;
    out.push_back(std::move(term));
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<Channel<Term>> Election::Watch(const WatchOptions& options) const {
  return internal::OpenWatch<Term>(core_,
                                   internal::WatchTarget{.kind = kElectionKind, .name = name_},
                                   options, ElectionDecoder{});
}

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

Future<Term> Election::SendAsCandidate(bool enter, const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<Term>(nullptr, internal::NoCore());
  // ID(), or, while the client has no session yet (a Client::Create client
  // still connecting), that of the session it opens, waited for on this
  // thread until the call's deadline.
  absl::StatusOr<std::string> id = ResolveID(options);
  if (!id.ok()) return internal::Refused<Term>(core_.get(), id.status());
  return SendElection(core_.get(), name_, enter ? "enter" : "leave", options,
                      /*idempotent=*/false, [&](v1::ElectionRequest& op) {
                        (enter ? op.mutable_enter()->mutable_candidate_id()
                               : op.mutable_leave()->mutable_candidate_id())
                            ->assign(*std::move(id));
                      });
}

Future<Term> Election::EnterAsync(const CallOptions& options) const {
  return SendAsCandidate(/*enter=*/true, options);
}

Future<Term> Election::LeaveAsync(const CallOptions& options) const {
  return SendAsCandidate(/*enter=*/false, options);
}

Future<Term> Election::AnointAsync(std::string_view id, const CallOptions& options) const {
  if (id.empty()) return internal::Refused<Term>(core_.get(), EmptyCandidate(name_));
  return SendElection(
      core_.get(), name_, "anoint", options, /*idempotent=*/false,
      [&](v1::ElectionRequest& op) { op.mutable_anoint()->set_candidate_id(std::string(id)); });
}

Future<Term> Election::PromoteAsync(std::string_view id, const CallOptions& options) const {
  if (id.empty()) return internal::Refused<Term>(core_.get(), EmptyCandidate(name_));
  return SendElection(
      core_.get(), name_, "promote", options, /*idempotent=*/false,
      [&](v1::ElectionRequest& op) { op.mutable_promote()->set_candidate_id(std::string(id)); });
}

Future<Term> Election::DemoteAsync(std::string_view id, const CallOptions& options) const {
  if (id.empty()) return internal::Refused<Term>(core_.get(), EmptyCandidate(name_));
  return SendElection(
      core_.get(), name_, "demote", options, /*idempotent=*/false,
      [&](v1::ElectionRequest& op) { op.mutable_demote()->set_candidate_id(std::string(id)); });
}

Future<Term> Election::EvictAsync(std::string_view id, const CallOptions& options) const {
  if (id.empty()) return internal::Refused<Term>(core_.get(), EmptyCandidate(name_));
  return SendElection(
      core_.get(), name_, "evict", options, /*idempotent=*/false,
      [&](v1::ElectionRequest& op) { op.mutable_evict()->set_candidate_id(std::string(id)); });
}

Future<Term> Election::GetTermAsync(const CallOptions& options) const {
  return SendElection(core_.get(), name_, "get_term", options, /*idempotent=*/true,
                      [](v1::ElectionRequest& op) { op.mutable_get_term(); });
}

absl::StatusOr<Term> Election::Enter(const CallOptions& options) const {
  return EnterAsync(options).get();
}
absl::StatusOr<Term> Election::Leave(const CallOptions& options) const {
  return LeaveAsync(options).get();
}
absl::StatusOr<Term> Election::Anoint(std::string_view id, const CallOptions& options) const {
  return AnointAsync(id, options).get();
}
absl::StatusOr<Term> Election::Promote(std::string_view id, const CallOptions& options) const {
  return PromoteAsync(id, options).get();
}
absl::StatusOr<Term> Election::Demote(std::string_view id, const CallOptions& options) const {
  return DemoteAsync(id, options).get();
}
absl::StatusOr<Term> Election::Evict(std::string_view id, const CallOptions& options) const {
  return EvictAsync(id, options).get();
}
absl::StatusOr<Term> Election::GetTerm(const CallOptions& options) const {
  return GetTermAsync(options).get();
}

namespace internal {

absl::StatusOr<Election> GetElection(std::shared_ptr<ClientCore> core, std::string_view name,
                                     const ElectionOptions& options) {
  absl::Status opened = OpenPrimitive(core, kElectionKind, name, options);
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
