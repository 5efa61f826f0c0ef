// The engine's state as a snapshot, and back.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/engine/engine.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/saved_time.h"

namespace atomix::broker {
namespace {

void SaveSession(const Sessions::Session& s, atomix::log::v1::SessionSave& save) {
  save.set_id(s.id);
  save.set_nonce(s.nonce);
  save.set_ttl_us(absl::ToInt64Microseconds(s.ttl));
  save.set_expires_us(SaveTime(s.expires));
  save.set_acked(s.acked);
  save.set_principal(s.principal);
  if (s.opened != absl::InfinitePast()) save.set_opened_us(SaveTime(s.opened));
  for (const auto& [sequence, response] : s.responses) {
    auto* answered = save.add_answered();
    answered->set_sequence(sequence);
    *answered->mutable_response() = response;
  }
  std::vector<std::pair<uint64_t, uint64_t>> waiting(s.pending.begin(), s.pending.end());
  std::sort(waiting.begin(), waiting.end());
  for (const auto& [sequence, token] : waiting) {
    auto* w = save.add_waiting();
    w->set_sequence(sequence);
    w->set_token(token);
  }
  for (const std::string& name : s.resources) save.add_resources(name);
}

void SavePrimitive(const std::string& name, const StateMachine& machine,
                   atomix::log::v1::EngineSnapshot& out) {
  auto* save = out.add_primitives();
  save->set_name(name);
  save->set_type(machine.type());
  machine.Save(*save);
}

}  // namespace

void Engine::Save(atomix::log::v1::EngineSnapshot& out) const {
  out.set_revision(revision_);
  out.set_now_us(SaveTime(now_));
  out.set_session_id_base(session_id_base_);
  out.set_session_key(session_key_);
  out.set_sessions_opened(sessions_opened_);
  out.set_next_token(next_token_);
  for (uint64_t id : sessions_.Ids()) {
    SaveSession(*sessions_.Find(id), *out.add_sessions());
  }
  std::vector<std::pair<uint64_t, const Pending*>> pending;
  for (const auto& [token, p] : pending_) pending.emplace_back(token, &p);
  std::sort(pending.begin(), pending.end());
  for (const auto& [token, p] : pending) {
    auto* save = out.add_pending();
    save->set_token(token);
    save->set_origin(p->origin);
    save->set_request_id(p->request_id);
    save->set_session(p->session);
    save->set_sequence(p->sequence);
    save->set_name(p->name);
  }
  std::vector<const std::string*> names;
  names.reserve(primitives_.size());
  for (const auto& [name, machine] : primitives_) names.push_back(&name);
  std::sort(names.begin(), names.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  out.mutable_primitives()->Reserve(static_cast<int>(names.size()));
  for (const std::string* name : names) SavePrimitive(*name, *primitives_.at(*name), out);
}

absl::Status Engine::Load(const atomix::log::v1::EngineSnapshot& in) {
  if (!primitives_.empty() || sessions_.size() != 0 || now_ != absl::InfinitePast()) {
    return absl::FailedPreconditionError("a snapshot loads only into a fresh engine");
  }
  revision_ = in.revision();
  now_ = LoadTime(in.now_us());
  session_id_base_ = in.session_id_base();
  // A snapshot from before session keys keeps the engine's own key: ids
  // stay unique, since a key's ids never repeat a live session's.
  if (!in.session_key().empty()) session_key_ = in.session_key();
  sessions_opened_ = in.sessions_opened();
  next_token_ = in.next_token();
  for (const auto& save : in.sessions()) {
    Sessions::Session s;
    s.id = save.id();
    s.nonce = save.nonce();
    s.ttl = absl::Microseconds(save.ttl_us());
    s.expires = LoadTime(save.expires_us());
    s.acked = save.acked();
    s.principal = save.principal();
    if (save.opened_us() != 0) s.opened = LoadTime(save.opened_us());
    for (const auto& a : save.answered()) s.responses[a.sequence()] = a.response();
    for (const auto& w : save.waiting()) s.pending[w.sequence()] = w.token();
    for (const std::string& name : save.resources()) s.resources.insert(name);
    sessions_.Restore(std::move(s));
  }
  for (const auto& save : in.primitives()) {
    std::unique_ptr<StateMachine> machine = NewStateMachine(save.type());
    if (machine == nullptr) {
      return absl::DataLossError(absl::StrCat("saved primitive ", QuoteName(save.name()),
                                              " has unknown type ", save.type()));
    }
    if (absl::Status loaded = machine->Load(save); !loaded.ok()) {
      return absl::DataLossError(
          absl::StrCat("saved primitive ", QuoteName(save.name()), ": ", loaded.message()));
    }
    Schedule(save.name(), *machine);
    Bind(save.name(), std::move(machine));
  }
  for (const auto& save : in.pending()) {
    AddPending(save.token(), Pending{save.origin(), save.request_id(), save.session(),
                                     save.sequence(), save.name()});
  }
  return absl::OkStatus();
}

}  // namespace atomix::broker
