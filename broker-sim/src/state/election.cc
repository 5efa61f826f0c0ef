// Election state machine.
#include "broker-sim/src/state/election.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/check.h"
#include "broker-sim/src/state/describe.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/state/saved_time.h"
#include "broker-sim/src/state/watch_events.h"

namespace atomix::broker {

int ElectionState::Find(const std::string& id) const {
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (candidates_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

std::string ElectionState::Leader() const {
  return candidates_.empty() ? std::string() : candidates_.front().id;
}

ApplyResult ElectionState::AfterChange(const std::string& old_leader,
                                       const ApplyContext& ctx) {
  const bool first = term_ == 0;
  if (Leader() != old_leader) term_ = ctx.revision;
  ApplyResult result = Mutated();
  v1::WatchEvent& event = AddEvent(
      result, first ? v1::WatchEvent::INSERTED : v1::WatchEvent::UPDATED,
      ctx.revision);
  FillTerm(*event.mutable_elected());
  *event.mutable_term() = event.elected();  // the 1.0 form
  return result;
}

void ElectionState::Snapshot(const WatchFilter& filter,
                             v1::WatchSnapshot& out) const {
  (void)filter;
  FillTerm(*out.mutable_elected());
  *out.mutable_term() = out.elected();  // the 1.0 form
}

void ElectionState::FillTerm(v1::Term& term) const {
  term.set_leader(Leader());
  term.set_term(term_);
  for (const Candidate& c : candidates_) term.add_candidates(c.id);
}

void ElectionState::Describe(v1::PrimitiveInfo& out) const {
  if (candidates_.empty()) {
    out.set_summary(absl::StrCat("no leader (term ", term_, ")"));
    return;
  }
  const Candidate& leader = candidates_.front();
  out.set_summary(absl::StrCat("leader ", DescribeBytes(leader.id), " (term ", term_, "), ",
                               Counted(static_cast<int64_t>(candidates_.size()),
                                       "candidate", "candidates")));
  AddHolding(*out.mutable_holders(), leader.session,
             absl::StrCat("leader ", DescribeBytes(leader.id)), term_);
  for (size_t i = 1; i < candidates_.size() && HasRoom(out.waiters()); ++i) {
    AddHolding(*out.mutable_waiters(), candidates_[i].session,
               absl::StrCat("candidate ", DescribeBytes(candidates_[i].id)));
  }
}

ApplyResult ElectionState::Apply(const v1::Request& request,
                                 const ApplyContext& ctx,
                                 v1::Response& response) {
  if (!request.has_election()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("election ", QuoteName(request.name()),
                          ": not an election operation"));
    return {};
  }
  const v1::ElectionRequest& op = request.election();
  const std::string old_leader = Leader();
  const auto describe = [&](const std::string& id) {
    return absl::StrCat("election ", QuoteName(request.name()), " candidate ",
                        QuoteBytes(id));
  };
  // Looks up a candidate that must exist; fills NOT_FOUND otherwise.
  const auto find = [&](const std::string& id) {
    const int i = Find(id);
    if (i < 0) {
      SetError(response, absl::StatusCode::kNotFound,
               absl::StrCat(describe(id), " is not a candidate"));
    }
    return i;
  };
  bool changed = false;
  switch (op.op_case()) {
    case v1::ElectionRequest::kEnter: {
      const std::string& id = op.enter().candidate_id();
      if (request.session_id() == 0) {
        SetError(response, absl::StatusCode::kInvalidArgument,
                 absl::StrCat("election ", QuoteName(request.name()),
                              ": enter needs a session"));
        return {};
      }
      const int i = Find(id);
      if (i >= 0 && candidates_[i].session != request.session_id()) {
        SetError(response, absl::StatusCode::kAlreadyExists,
                 absl::StrCat(describe(id), " belongs to session ",
                              candidates_[i].session));
        return {};
      }
      if (i < 0) {
        candidates_.push_back(Candidate{id, request.session_id()});
        changed = true;
      }
      break;
    }
    case v1::ElectionRequest::kLeave: {
      const std::string& id = op.leave().candidate_id();
      const int i = find(id);
      if (i < 0) return {};
      if (candidates_[i].session != request.session_id()) {
        SetError(response, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat(describe(id), " belongs to session ",
                              candidates_[i].session, ", not ",
                              request.session_id()));
        return {};
      }
      candidates_.erase(candidates_.begin() + i);
      changed = true;
      break;
    }
    case v1::ElectionRequest::kAnoint: {
      const int i = find(op.anoint().candidate_id());
      if (i < 0) return {};
      if (i > 0) {
        std::rotate(candidates_.begin(), candidates_.begin() + i,
                    candidates_.begin() + i + 1);
        changed = true;
      }
      break;
    }
    case v1::ElectionRequest::kPromote: {
      const int i = find(op.promote().candidate_id());
      if (i < 0) return {};
      if (i > 1) {
        std::rotate(candidates_.begin() + 1, candidates_.begin() + i,
                    candidates_.begin() + i + 1);
        changed = true;
      }
      break;
    }
    case v1::ElectionRequest::kDemote: {
      const int i = find(op.demote().candidate_id());
      if (i < 0) return {};
      if (i + 1 < static_cast<int>(candidates_.size())) {
        std::rotate(candidates_.begin() + i, candidates_.begin() + i + 1,
                    candidates_.end());
        changed = true;
      }
      break;
    }
    case v1::ElectionRequest::kEvict: {
      const int i = find(op.evict().candidate_id());
      if (i < 0) return {};
      candidates_.erase(candidates_.begin() + i);
      changed = true;
      break;
    }
    case v1::ElectionRequest::kGetTerm:
      break;
    case v1::ElectionRequest::OP_NOT_SET:
      SetError(response, absl::StatusCode::kInvalidArgument,
               absl::StrCat("election ", QuoteName(request.name()),
                            ": request has no operation"));
      return {};
  }
  ApplyResult result;
  if (changed) result = AfterChange(old_leader, ctx);
  v1::ElectionResponse* out = response.mutable_election();
  out->set_changed(changed);
  FillTerm(*out->mutable_term());
  return result;
}

ApplyResult ElectionState::EndSession(uint64_t session_id,
                                      const ApplyContext& ctx) {
  const std::string old_leader = Leader();
  const size_t before = candidates_.size();
  std::erase_if(candidates_,
                [&](const Candidate& c) { return c.session == session_id; });
  if (candidates_.size() == before) return {};
  return AfterChange(old_leader, ctx);
}

void ElectionState::Save(atomix::log::v1::PrimitiveSave& out) const {
  auto* save = out.mutable_election();
  for (const Candidate& c : candidates_) {
    auto* saved = save->add_candidates();
    saved->set_id(c.id);
    saved->set_session(c.session);
  }
  save->set_term(term_);
}

absl::Status ElectionState::Load(const atomix::log::v1::PrimitiveSave& in) {
  if (!in.has_election()) return WrongSave("election");
  for (const auto& c : in.election().candidates()) candidates_.push_back({c.id(), c.session()});
  term_ = in.election().term();
  return absl::OkStatus();
}

namespace {

absl::Status CheckCandidate(const std::string& id, const Limits& limits) {
  return CheckBytes("candidate_id", id, limits.max_key_bytes, false);
}

absl::Status ValidateElection(const v1::Request& request, const Limits& limits) {
  const v1::ElectionRequest& op = request.election();
  switch (op.op_case()) {
    case v1::ElectionRequest::kEnter:
      return Both(CheckCandidate(op.enter().candidate_id(), limits),
                  NeedsSession(request, "election enter"));
    case v1::ElectionRequest::kLeave:
      return Both(CheckCandidate(op.leave().candidate_id(), limits),
                  NeedsSession(request, "election leave"));
    case v1::ElectionRequest::kAnoint:
      return CheckCandidate(op.anoint().candidate_id(), limits);
    case v1::ElectionRequest::kPromote:
      return CheckCandidate(op.promote().candidate_id(), limits);
    case v1::ElectionRequest::kDemote:
      return CheckCandidate(op.demote().candidate_id(), limits);
    case v1::ElectionRequest::kEvict:
      return CheckCandidate(op.evict().candidate_id(), limits);
    case v1::ElectionRequest::kGetTerm:
      return absl::OkStatus();
    case v1::ElectionRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("election");
}

bool ElectionIsRead(const v1::Request& request) {
  return request.election().has_get_term();
}

// Entering and leaving is taking part. Anoint, promote, demote and evict
// name any candidate, whichever session owns it: they need admin.
AccessRight ElectionRight(const v1::Request& request) {
  const v1::ElectionRequest& op = request.election();
  return op.has_enter() || op.has_leave() ? AccessRight::kLock : AccessRight::kAdmin;
}

}  // namespace

const PrimitiveSpec& ElectionPrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::ELECTION,
      .name = "election",
      .a_name = "an election",
      .op = v1::Request::kElection,
      .make = &Make<ElectionState>,
      .validate = &ValidateElection,
      .session_owned = &AlwaysOwned,
      .is_read = &ElectionIsRead,
      .right_of = &ElectionRight,
  };
  return spec;
}

}  // namespace atomix::broker
