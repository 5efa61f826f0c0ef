// The engine's state digest, for tests that replay records and compare.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/engine/engine.h"

namespace atomix::broker {

std::string Engine::Digest() const {
  std::string out = absl::StrCat("revision ", revision_, "\nnow ",
                                 absl::FormatTime(now_), "\nopened ",
                                 sessions_opened_, "\n");
  for (uint64_t id : sessions_.Ids()) {
    const Sessions::Session& s = *sessions_.Find(id);
    absl::StrAppend(&out, "session ", id, " nonce ", s.nonce, " ttl ",
                    absl::FormatDuration(s.ttl), " expires ",
                    absl::FormatTime(s.expires), " acked ", s.acked,
                    " opened ", absl::FormatTime(s.opened), " principal ",
                    s.principal.size(), ":", s.principal, "\n");
    for (const auto& [sequence, response] : s.responses) {
      absl::StrAppend(&out, "  answered ", sequence, " ",
                      response.SerializeAsString().size(), ":",
                      response.ShortDebugString(), "\n");
    }
    std::vector<std::pair<uint64_t, uint64_t>> pending(s.pending.begin(),
                                                       s.pending.end());
    std::sort(pending.begin(), pending.end());
    for (const auto& [sequence, token] : pending) {
      absl::StrAppend(&out, "  waiting ", sequence, " token ", token, "\n");
    }
    for (const std::string& name : s.resources) {
      absl::StrAppend(&out, "  owns ", name, "\n");
    }
  }
  std::vector<std::pair<uint64_t, const Pending*>> pending;
  for (const auto& [token, p] : pending_) pending.emplace_back(token, &p);
  std::sort(pending.begin(), pending.end());
  for (const auto& [token, p] : pending) {
    absl::StrAppend(&out, "pending ", token, " origin ", p->origin, " id ",
                    p->request_id, " session ", p->session, " sequence ",
                    p->sequence, " name ", p->name, "\n");
  }
  std::vector<const std::string*> names;
  for (const auto& [name, machine] : primitives_) names.push_back(&name);
  std::sort(names.begin(), names.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  for (const std::string* name : names) {
    // The machine's whole saved state: waiters, owners and TTLs included.
    const StateMachine& machine = *primitives_.at(*name);
    atomix::log::v1::PrimitiveSave saved;
    machine.Save(saved);
    absl::StrAppend(&out, "primitive ", *name, " ", TypeName(machine.type()),
                    " next ", absl::FormatTime(machine.NextDeadline()), " ",
                    saved.ShortDebugString(), "\n");
  }
  for (const auto& [when, name] : timers_) {
    absl::StrAppend(&out, "timer ", absl::FormatTime(when), " ", name, "\n");
  }
  return out;
}

}  // namespace atomix::broker
