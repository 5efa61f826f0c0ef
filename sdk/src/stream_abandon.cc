// StreamCore, the cleanup side: blocking requests whose callers gave up.
//
// A caller of CallBlocking that stops waiting (deadline or cancel) after its
// request was written leaves the request's (session, sequence) and give-back
// here. The cleanup thread asks the broker to withdraw the request with a
// CancelRequest for that sequence; the broker answers with what became of it:
// withdrawn (or remembered as cancelled if it has not arrived yet), or the
// answer it already had. If that answer granted something, the thread sends
// the primitive's give-back request (a fenced lock release). Until the
// cancel is answered the sequence stays outstanding, so acknowledgements
// cannot make the broker forget the answer the cancel asks for.
//
// The thread gives up on an entry only when its session is lost (the broker
// then releases everything the session held anyway) or the client closes
// (which closes the session, with the same effect).
#include <pthread.h>

#include <optional>
#include <utility>

#include "sdk/src/stream_transport.h"

namespace atomix::internal {
namespace {

constexpr std::chrono::milliseconds kRetryPause(100);

}  // namespace

bool StreamCore::LeaveBehindLocked(PendingCall& call) {
  if (!call.blocking || call.sequence == 0 || call.session_id == 0 ||
      call.session_id != session_id_ || cleanup_stop_.stop_requested()) {
    return false;
  }
  abandoned_.push_back(Abandoned{call.session_id, call.sequence, std::move(call.give_back)});
  cleanup_cv_.notify_one();
  return true;
}

void StreamCore::CleanupLoop() {
  pthread_setname_np(pthread_self(), "atomix-cleanup");
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cleanup_cv_.wait(lock,
                     [&] { return cleanup_stop_.stop_requested() || !abandoned_.empty(); });
    if (cleanup_stop_.stop_requested()) return;
    Abandoned a = std::move(abandoned_.front());
    abandoned_.pop_front();
    lock.unlock();
    Settle(a);
    lock.lock();
  }
}

void StreamCore::Settle(Abandoned& a) {
  v1::Request cancel;
  cancel.mutable_cancel()->set_sequence(a.sequence);
  absl::StatusOr<v1::Response> settled =
      SendForSession(std::move(cancel), a.session_id, /*idempotent=*/true);
  {
    // Settled (or its session is gone): the sequence may be acknowledged.
    std::lock_guard<std::mutex> lock(mu_);
    ForgetSequenceLocked(a.session_id, a.sequence);
  }
  if (!settled.ok() || !settled->has_cancel() || !settled->cancel().has_answer()) return;
  const v1::Response& answer = settled->cancel().answer();
  if (answer.has_error() || !a.give_back) return;
  std::optional<v1::Request> give_back = a.give_back(answer);
  if (!give_back) return;
  (void)SendForSession(std::move(*give_back), a.session_id, /*idempotent=*/false);
}

absl::StatusOr<v1::Response> StreamCore::SendForSession(v1::Request request,
                                                        uint64_t session_id, bool idempotent) {
  // Pinned: it is never sent under another session.
  request.set_session_id(session_id);
  const std::stop_token stop = cleanup_stop_.get_token();
  for (;;) {
    if (stop.stop_requested()) return absl::CancelledError("client closed");
    Clock::duration ttl;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ttl = ttl_;
    }
    absl::StatusOr<v1::Response> r =
        CallImpl(request, Clock::now() + ttl, stop, idempotent, /*control=*/false);
    if (r.ok()) return r;
    const absl::StatusCode code = r.status().code();
    if (code != absl::StatusCode::kUnavailable && code != absl::StatusCode::kDeadlineExceeded) {
      return r;  // The broker's answer, the session's loss, or the client's close.
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (session_id_ != session_id) return r;
    cleanup_cv_.wait_for(lock, kRetryPause, [&] { return stop.stop_requested(); });
  }
}

}  // namespace atomix::internal
