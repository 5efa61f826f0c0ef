// Operators' pages of the engine's state: Admin.ListSessions and
// ListPrimitives. Reads only; nothing here changes the state.
#include <algorithm>
#include <string>
#include <vector>

#include "broker-sim/src/engine/engine.h"

namespace atomix::broker {

void Engine::ListSessions(const v1::ListSessionsRequest& request,
                          v1::ListSessionsResponse& out) const {
  out.set_revision(revision_);
  for (uint64_t id : sessions_.Ids()) {
    if (id <= request.after()) continue;
    if (out.sessions_size() == static_cast<int>(request.limit())) {
      out.set_more(true);
      break;
    }
    const Sessions::Session& s = *sessions_.Find(id);
    v1::SessionInfo& info = *out.add_sessions();
    info.set_id(id);
    info.set_ttl_ms(absl::ToInt64Milliseconds(s.ttl));
    if (s.opened != absl::InfinitePast()) {
      info.set_age_ms(absl::ToInt64Milliseconds(now_ - s.opened));
    }
    info.set_expires_in_ms(std::max<int64_t>(0, absl::ToInt64Milliseconds(s.expires - now_)));
    info.set_waiting(static_cast<uint32_t>(s.pending.size()));
    for (const std::string& name : s.resources) {
      const StateMachine* machine = Find(name);
      if (machine == nullptr) continue;
      v1::PrimitiveInfo described;
      machine->Describe(described);
      for (v1::Holding& holding : *described.mutable_holders()) {
        if (holding.session() != id) continue;
        holding.set_name(name);
        holding.set_type(machine->type());
        holding.clear_session();
        *info.add_holds() = std::move(holding);
      }
    }
  }
}

void Engine::ListPrimitives(const v1::ListPrimitivesRequest& request,
                            v1::ListPrimitivesResponse& out) const {
  out.set_revision(revision_);
  // The first limit + 1 matching names in order, without sorting them all.
  std::vector<const std::string*> names;
  for (const auto& [name, machine] : primitives_) {
    if (name <= request.after() || !name.starts_with(request.prefix())) continue;
    if (request.type() != v1::PRIMITIVE_TYPE_UNSPECIFIED && machine->type() != request.type()) {
      continue;
    }
    names.push_back(&name);
  }
  const size_t limit = request.limit();
  const size_t n = std::min(limit, names.size());
  std::partial_sort(names.begin(), names.begin() + static_cast<ptrdiff_t>(n), names.end(),
                    [](const std::string* a, const std::string* b) { return *a < *b; });
  out.set_more(names.size() > limit);
  for (size_t i = 0; i < n; ++i) {
    const StateMachine& machine = *primitives_.at(*names[i]);
    v1::PrimitiveInfo& info = *out.add_primitives();
    machine.Describe(info);
    info.set_name(*names[i]);
    info.set_type(machine.type());
    for (v1::Holding& h : *info.mutable_holders()) {
      h.set_name(*names[i]);
      h.set_type(machine.type());
    }
    for (v1::Holding& h : *info.mutable_waiters()) {
      h.set_name(*names[i]);
      h.set_type(machine.type());
    }
  }
}

}  // namespace atomix::broker
