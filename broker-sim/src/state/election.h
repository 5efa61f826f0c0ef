// ElectionState: a leader election over candidates in priority order; the
// first candidate is the leader. The term is the revision at which the
// leader last changed (to another candidate or to none), so it rises
// strictly with every change. Operations that change the candidate list take
// a revision; the ones that find nothing to do take none.
//
// Watch events: every change of the candidate list (and so of the term it
// carries) is one event with the Term after it: INSERTED for the first
// change the election ever saw (term 0 before), UPDATED afterwards.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_ELECTION_H_
#define ATOMIX_BROKER_STATE_ELECTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

class ElectionState final : public StateMachine {
 public:
  struct Candidate {
    std::string id;
    uint64_t session = 0;
  };

  v1::PrimitiveType type() const override { return v1::ELECTION; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;
  ApplyResult EndSession(uint64_t session_id,
                         const ApplyContext& ctx) override;
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // "leader node-1 (term 4), 3 candidates" or "no leader (term 4)"; the
  // leader as holder ("leader node-1", fence = term), the other candidates
  // as waiters in priority order ("candidate node-2").
  void Describe(v1::PrimitiveInfo& out) const override;

  const std::vector<Candidate>& candidates() const { return candidates_; }
  int64_t term() const { return term_; }

 private:
  // Index of `id` in candidates_, or -1.
  int Find(const std::string& id) const;
  // After a change of the candidate list: bumps the term to ctx.revision if
  // the leader is no longer `old_leader`; the result holds the event.
  ApplyResult AfterChange(const std::string& old_leader,
                          const ApplyContext& ctx);
  std::string Leader() const;
  void FillTerm(v1::Term& term) const;

  std::vector<Candidate> candidates_;
  int64_t term_ = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_ELECTION_H_
