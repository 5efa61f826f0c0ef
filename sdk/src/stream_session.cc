// StreamCore, the session side: the session thread (open, keep-alive, loss,
// replacement), request stamping for exactly-once, and state notifications.
//
// The lease. The broker restarts a session's TTL whenever a request of the
// session arrives. The client cannot know when that was, only when it sent
// the request, which is earlier: so it counts the lease from the send time
// of the last successful keep-alive (or open). By that clock the lease ends
// no later than the broker's, and the client declares the session lost no
// later than the broker ends it (up to clock-rate differences).
#include <pthread.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sdk/src/broker_timeout.h"
#include "sdk/src/stream_transport.h"

namespace atomix::internal {
namespace {

// Pause before opening a session again after a failure that is not final.
constexpr std::chrono::milliseconds kRetryPause(100);

// A random, nonzero session-open nonce.
uint64_t RandomNonce() {
  std::random_device device;
  uint64_t nonce = 0;
  while (nonce == 0) nonce = (uint64_t{device()} << 32) ^ device();
  return nonce;
}

// Whether opening a session may succeed when simply tried again.
bool Transient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) || absl::IsCancelled(s) ||
         absl::IsResourceExhausted(s) || absl::IsAborted(s);
}

}  // namespace

absl::Status SessionLostError(uint64_t id, const std::string& why) {
  return absl::AbortedError(absl::StrCat("session ", id, " lost (", why,
                                         "); the operation may or may not have been applied"));
}

void StreamCore::SessionLoop() {
  pthread_setname_np(pthread_self(), "atomix-session");
  std::unique_lock<std::mutex> lock(mu_);
  while (!shutdown_) {
    const Clock::time_point now = Clock::now();
    if (session_id_ != 0 && now >= lease_end_) {
      LoseSessionLocked(lock, "its lease ran out before a keep-alive succeeded");
      continue;
    }
    if (closing_) {
      session_cv_.wait(lock, [&] { return shutdown_; });
      continue;
    }
    if (!connected_) {
      if (session_id_ != 0) SetStateLocked(SessionState::kSuspended);
      const Clock::time_point until =
          session_id_ != 0 ? lease_end_ : now + std::chrono::hours(24);
      session_cv_.wait_until(lock, until, [&] { return shutdown_ || closing_ || connected_; });
      continue;
    }
    const uint64_t epoch = stream_epoch_;
    if (session_id_ == 0) {
      if (session_less_ && verified_epoch_ == epoch) {
        // Without session support; try again on the next stream.
        session_cv_.wait(lock, [&] {
          return shutdown_ || closing_ || !connected_ || stream_epoch_ != epoch;
        });
        continue;
      }
      OpenSessionLocked(lock, epoch);
      continue;
    }
    if (verified_epoch_ != epoch || check_session_ || now >= next_keepalive_) {
      KeepAliveLocked(lock, epoch);
      continue;
    }
    session_cv_.wait_until(lock, std::min(next_keepalive_, lease_end_), [&] {
      return shutdown_ || closing_ || !connected_ || check_session_ || stream_epoch_ != epoch;
    });
  }
}

void StreamCore::OpenSessionLocked(std::unique_lock<std::mutex>& lock, uint64_t epoch) {
  // The nonce makes the open idempotent: it is sent again, unchanged, until
  // an answer arrives, and the broker answers a repeat with the same session.
  if (open_nonce_ == 0) open_nonce_ = RandomNonce();
  v1::Request request;
  v1::SessionOpen* open = request.mutable_session()->mutable_open();
  open->set_ttl_ms(options_.session_ttl.count());
  open->set_nonce(open_nonce_);
  const Clock::time_point sent = Clock::now();
  lock.unlock();
  absl::StatusOr<v1::Response> r =
      CallImpl(std::move(request), sent + handshake_timeout_, {}, /*idempotent=*/true,
               /*control=*/true);
  lock.lock();
  if (shutdown_ || closing_) return;
  const bool ready_now = connected_ && stream_epoch_ == epoch;
  if (r.ok() && r->session().session_id() != 0) {
    open_nonce_ = 0;
    session_id_ = r->session().session_id();
    if (r->session().ttl_ms() > 0) ttl_ = std::chrono::milliseconds(r->session().ttl_ms());
    lease_end_ = sent + ttl_;
    next_keepalive_ = sent + ttl_ / 3;
    verified_epoch_ = epoch;
    session_less_ = false;
    check_session_ = false;
    next_sequence_ = 1;
    outstanding_.clear();
    lost_source_ = std::stop_source();
    if (ready_now) session_ready_ = true;
    SetStateLocked(ever_lost_ ? SessionState::kReconnected : SessionState::kConnected);
  } else if (r.ok() || !Transient(r.status())) {
    // A broker without sessions (UNIMPLEMENTED, or INVALID_ARGUMENT because
    // it does not know the operation): run without one (session id 0), with
    // the retry rules of a session-less client.
    session_less_ = true;
    verified_epoch_ = epoch;
    if (ready_now) session_ready_ = true;
    SetStateLocked(SessionState::kConnected);
  } else {
    session_cv_.wait_for(lock, kRetryPause,
                         [&] { return shutdown_ || closing_ || stream_epoch_ != epoch; });
    return;
  }
  if (session_ready_) {
    writer_cv_.notify_all();
    state_cv_.notify_all();
  }
}

void StreamCore::KeepAliveLocked(std::unique_lock<std::mutex>& lock, uint64_t epoch) {
  const uint64_t id = session_id_;
  check_session_ = false;
  v1::Request request;
  request.set_session_id(id);
  request.mutable_session()->mutable_keep_alive();
  const Clock::time_point sent = Clock::now();
  const Clock::time_point deadline =
      std::min(sent + std::max<Clock::duration>(ttl_ / 3, kRetryPause), lease_end_);
  lock.unlock();
  absl::StatusOr<v1::Response> r = CallImpl(std::move(request), deadline, {}, true, true);
  lock.lock();
  if (shutdown_ || closing_ || session_id_ != id) return;
  if (r.ok()) {
    lease_end_ = std::max(lease_end_, sent + ttl_);
    next_keepalive_ = sent + ttl_ / 3;
    if (connected_ && stream_epoch_ == epoch) {
      verified_epoch_ = epoch;
      if (!session_ready_) {
        session_ready_ = true;
        writer_cv_.notify_all();
        state_cv_.notify_all();
      }
    }
    if (session_state_ == SessionState::kSuspended) SetStateLocked(SessionState::kConnected);
  } else if (absl::IsAborted(r.status())) {
    LoseSessionLocked(lock, "the broker no longer knows it");
  } else {
    SetStateLocked(SessionState::kSuspended);
    next_keepalive_ = Clock::now() + kRetryPause;
  }
}

void StreamCore::LoseSessionLocked(std::unique_lock<std::mutex>& lock, const std::string& why) {
  const uint64_t old = session_id_;
  if (old == 0) return;
  session_id_ = 0;
  session_ready_ = false;
  check_session_ = false;
  ever_lost_ = true;
  next_sequence_ = 1;
  outstanding_.clear();
  // Mutations stamped with the old session can never be retried safely.
  const absl::Status lost = SessionLostError(old, why);
  std::vector<PendingCall*> doomed;
  for (PendingCall* call = queue_.front(); call != nullptr; call = call->next) {
    if (call->sequence != 0 && call->session_id == old) doomed.push_back(call);
  }
  for (PendingCall* call : doomed) queue_.Remove(call);
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    PendingCall* call = it->second;
    if (!call->control && call->sequence != 0 && call->session_id == old) {
      doomed.push_back(call);
      in_flight_.erase(it++);
    } else {
      ++it;
    }
  }
  for (PendingCall* call : doomed) {
    call->where = PendingCall::Where::kNone;
    call->Fail(lost);
  }
  std::stop_source source = std::exchange(lost_source_, std::stop_source());
  SetStateLocked(SessionState::kLost);
  // Stop the old session's token before anything can carry a new session:
  // only this thread opens one, and it does so after this returns.
  lock.unlock();
  source.request_stop();
  lock.lock();
}

void StreamCore::EndSession(Clock::time_point deadline) {
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
    session_cv_.notify_all();
    if (!connected_ || !session_ready_ || session_id_ == 0) return;
    id = session_id_;
  }
  v1::Request request;
  request.set_session_id(id);
  request.mutable_session()->mutable_close();
  // Idempotent: a close whose answer was lost is sent again (closing a
  // session that is already gone answers ABORTED, which is fine here).
  (void)CallImpl(std::move(request), deadline, {}, /*idempotent=*/true, /*control=*/true);
  std::stop_source source;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (session_id_ != id) return;
    session_id_ = 0;
    session_ready_ = false;
    source = std::exchange(lost_source_, std::stop_source());
  }
  source.request_stop();
}

void StreamCore::SetStateLocked(SessionState state) {
  if (state == session_state_) return;
  session_state_ = state;
  watchers_.erase(std::remove_if(watchers_.begin(), watchers_.end(),
                                 [&](Channel<SessionState>& w) { return !w.Send(state); }),
                  watchers_.end());
}

uint64_t StreamCore::AckLocked() const {
  if (outstanding_.empty()) return next_sequence_ - 1;
  return *outstanding_.begin() - 1;
}

bool StreamCore::StampLocked(PendingCall& call) {
  absl::Status refused;
  if (call.pinned_session != 0 && call.pinned_session != session_id_) {
    refused = SessionLostError(call.pinned_session, "it is not the client's session any more");
  } else if (call.sequence != 0 && call.session_id != session_id_) {
    refused = SessionLostError(call.session_id, "it ended before the retry");
  }
  if (!refused.ok()) {
    call.where = PendingCall::Where::kNone;
    call.Fail(std::move(refused));
    return false;
  }
  if (call.sequence == 0) {
    call.session_id = session_id_;
    if (!call.idempotent && session_id_ != 0) {
      call.sequence = next_sequence_++;
      outstanding_.insert(call.sequence);
    }
  }
  call.request.set_session_id(call.session_id);
  call.request.set_sequence(call.sequence);
  call.request.set_ack_sequence(call.session_id != 0 ? AckLocked() : 0);
  if (call.blocking) call.request.set_timeout_ms(BrokerTimeoutMs(call.deadline, Clock::now()));
  return true;
}

void StreamCore::ForgetSequenceLocked(uint64_t session_id, uint64_t sequence) {
  if (sequence == 0 || session_id != session_id_) return;
  const bool was_full = SequenceWindowFullLocked();
  outstanding_.erase(sequence);
  if (was_full) writer_cv_.notify_all();
}

bool StreamCore::SequenceWindowFullLocked() const {
  if (session_id_ == 0 || queue_.empty()) return false;
  const PendingCall& head = *queue_.front();
  if (head.sequence != 0 || head.idempotent) return false;
  // The head would take next_sequence_ and acknowledge AckLocked(); the
  // broker then holds the answers of every sequence in between.
  return next_sequence_ - AckLocked() > kMaxUnacknowledged;
}

uint64_t StreamCore::session_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return session_id_;
}

std::stop_token StreamCore::SessionLostToken(uint64_t id) const {
  if (id == 0) return {};
  std::lock_guard<std::mutex> lock(mu_);
  if (id == session_id_) return lost_source_.get_token();
  std::stop_source gone;
  gone.request_stop();
  return gone.get_token();
}

SessionState StreamCore::session_state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return session_state_;
}

void StreamCore::WatchSessionState(Channel<SessionState> channel) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!shutdown_) {
      watchers_.push_back(std::move(channel));
      return;
    }
  }
  channel.Close();  // Outside mu_: Close() waits for callbacks, which may call us.
}

}  // namespace atomix::internal
