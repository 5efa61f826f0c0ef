// Session table.
#include "broker-sim/src/state/sessions.h"

#include <algorithm>

namespace atomix::broker {

Sessions::Session& Sessions::Open(uint64_t id, absl::Duration ttl,
                                  absl::Time now, uint64_t nonce,
                                  std::string principal) {
  Session& session = sessions_[id];
  session.id = id;
  ++by_principal_[principal];
  session.principal = std::move(principal);
  session.nonce = nonce;
  if (nonce != 0) by_nonce_[nonce] = id;
  session.ttl = ttl;
  session.expires = now + ttl;
  session.opened = now;
  expiries_.emplace(session.expires, id);
  return session;
}

Sessions::Session* Sessions::Find(uint64_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

const Sessions::Session* Sessions::Find(uint64_t id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

Sessions::Session* Sessions::FindByNonce(uint64_t nonce) {
  if (nonce == 0) return nullptr;
  auto it = by_nonce_.find(nonce);
  return it == by_nonce_.end() ? nullptr : Find(it->second);
}

void Sessions::Touch(Session& session, absl::Time now) {
  const absl::Time expires = std::max(session.expires, now + session.ttl);
  if (expires == session.expires) return;
  expiries_.erase({session.expires, session.id});
  session.expires = expires;
  expiries_.emplace(expires, session.id);
}

void Sessions::Restore(Session session) {
  const uint64_t id = session.id;
  Erase(id);
  expiries_.emplace(session.expires, id);
  if (session.nonce != 0) by_nonce_[session.nonce] = id;
  session.remembered_bytes = 0;
  for (const auto& [sequence, response] : session.responses) {
    session.remembered_bytes += response.ByteSizeLong();
  }
  remembered_bytes_ += session.remembered_bytes;
  ++by_principal_[session.principal];
  sessions_[id] = std::move(session);
}

void Sessions::TouchAll(absl::Time now) {
  for (auto& [id, session] : sessions_) Touch(session, now);
}

void Sessions::Acknowledge(Session& session, uint64_t ack_sequence) {
  if (ack_sequence <= session.acked) return;
  session.acked = ack_sequence;
  Forget(session, session.responses.begin(),
         session.responses.upper_bound(ack_sequence));
}

void Sessions::Forget(Session& session,
                      absl::btree_map<uint64_t, v1::Response>::iterator from,
                      absl::btree_map<uint64_t, v1::Response>::iterator to) {
  for (auto it = from; it != to; ++it) {
    const size_t bytes = it->second.ByteSizeLong();
    session.remembered_bytes -= bytes;
    remembered_bytes_ -= bytes;
  }
  session.responses.erase(from, to);
}

Sessions::Replay Sessions::Check(const Session& session, uint64_t sequence,
                                 size_t max_unacked,
                                 const v1::Response** cached,
                                 uint64_t* pending_token) const {
  return Check(session, sequence, Caps{.max_unacked = max_unacked}, cached,
               pending_token);
}

Sessions::Replay Sessions::Check(const Session& session, uint64_t sequence,
                                 const Caps& caps, const v1::Response** cached,
                                 uint64_t* pending_token) const {
  if (sequence == 0) return Replay::kApply;
  if (sequence <= session.acked) return Replay::kAcknowledged;
  if (auto it = session.responses.find(sequence);
      it != session.responses.end()) {
    *cached = &it->second;
    return Replay::kAnswered;
  }
  if (auto it = session.pending.find(sequence); it != session.pending.end()) {
    *pending_token = it->second;
    return Replay::kPending;
  }
  if (caps.max_unacked != 0 &&
      session.responses.size() + session.pending.size() >= caps.max_unacked) {
    return Replay::kFull;
  }
  if (caps.max_bytes != 0 && session.remembered_bytes >= caps.max_bytes) {
    return Replay::kFullBytes;
  }
  if (caps.max_total_bytes != 0 && remembered_bytes_ >= caps.max_total_bytes) {
    return Replay::kFullTotal;
  }
  return Replay::kApply;
}

void Sessions::Remember(Session& session, uint64_t sequence,
                        const v1::Response& response) {
  if (sequence == 0 || sequence <= session.acked) return;
  session.pending.erase(sequence);
  const size_t bytes = response.ByteSizeLong();
  v1::Response& slot = session.responses[sequence];
  const size_t old = slot.ByteSizeLong();
  session.remembered_bytes += bytes - old;
  remembered_bytes_ += bytes - old;
  slot = response;
}

void Sessions::Erase(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  expiries_.erase({it->second.expires, id});
  if (it->second.nonce != 0) by_nonce_.erase(it->second.nonce);
  remembered_bytes_ -= it->second.remembered_bytes;
  auto owner = by_principal_.find(it->second.principal);
  if (owner != by_principal_.end() && --owner->second == 0) {
    by_principal_.erase(owner);
  }
  sessions_.erase(it);
}

std::optional<std::pair<absl::Time, uint64_t>> Sessions::Next() const {
  if (expiries_.empty()) return std::nullopt;
  return *expiries_.begin();
}

std::vector<uint64_t> Sessions::Ids() const {
  std::vector<uint64_t> ids;
  ids.reserve(sessions_.size());
  for (const auto& [id, session] : sessions_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace atomix::broker
