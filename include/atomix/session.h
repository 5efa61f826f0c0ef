// Sessions: the lease a client holds on the broker. Locks, election
// candidacies and ephemeral entries belong to the session that created them,
// and the broker releases them all when that session ends.
//
//   atomix::Client client = *atomix::Client::Connect(opts);
//   atomix::Session session = client.session();
//   std::stop_token lost = session.Done();   // stopped when this session is lost
//
//   atomix::Subscription sub = client.OnSessionStateChange([](atomix::SessionState s) {
//     if (s == atomix::SessionState::kLost) StopGuardedWork();
//   });
//
// The client opens its session as soon as it connects and keeps it alive
// from a thread of its own (every ClientOptions::session_ttl / 3); the
// application never sends keep-alives. See docs/sessions.md.
//
// States of the client's session:
//   kConnected    the session is open and keep-alives succeed.
//   kSuspended    keep-alives fail (or no session is open yet), but by the
//                 client's conservative clock the lease may still be alive.
//                 Calls wait; nothing has been released.
//   kLost         the lease is over by the client's clock, or the broker
//                 reported the session gone. Its locks may already be held by
//                 others: stop all work guarded by them.
//   kReconnected  a new session was opened after a loss. Primitive handles
//                 keep working with it; locks of the old session are not
//                 coming back.
//
// Thread-safety: Session is a cheap, copyable handle; all methods are safe
// from any thread. Like every handle, it keeps the client's connection open.
#ifndef ATOMIX_SESSION_H_
#define ATOMIX_SESSION_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>

#include "atomix/export.h"

namespace atomix {

namespace internal {
class ClientCore;
}

enum class SessionState {
  kConnected,
  kSuspended,
  kLost,
  kReconnected,
};

// "connected", "suspended", "lost" or "reconnected".
ATOMIX_EXPORT const char* SessionStateName(SessionState state);

// One session of a client, as it was when Client::session() returned it.
// A client that replaces a lost session hands out a new Session; this one
// stays lost.
class ATOMIX_EXPORT Session {
 public:
  // The broker's id of this session; 0 when the client runs without a
  // session (a broker that does not support sessions).
  uint64_t id() const { return id_; }

  // kLost once this session is lost, otherwise the client's current state.
  SessionState state() const;

  // Stopped when this session is lost (expired, closed, or forgotten by the
  // broker). Already stopped if it is lost now. Never stopped for id 0.
  std::stop_token Done() const;

  // Blocks until this session is lost or `deadline` passes. Returns whether
  // it is lost. For id 0 it waits until `deadline` and returns false.
  bool WaitDone(std::chrono::steady_clock::time_point deadline) const;

 private:
  friend class Client;
  Session(std::shared_ptr<internal::ClientCore> core, uint64_t id)
      : core_(std::move(core)), id_(id) {}

  std::shared_ptr<internal::ClientCore> core_;
  uint64_t id_ = 0;
};

}  // namespace atomix

#endif  // ATOMIX_SESSION_H_
