// StreamCore, the caller side: enqueue, and end calls at their deadline or
// cancel. The writer and reader
// threads are in stream_io.cc.
#include "sdk/src/stream_transport.h"

#include <pthread.h>

#include <algorithm>
#include <optional>
#include <stop_token>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sdk/src/channel.h"
#include "sdk/src/endpoints.h"
#include "sdk/src/status_convert.h"

namespace atomix::internal {
namespace {

// Caps a deadline so that waiting on it cannot overflow clock arithmetic.
std::chrono::steady_clock::time_point Clamp(std::chrono::steady_clock::time_point deadline) {
  const auto far = std::chrono::steady_clock::now() + std::chrono::hours(24 * 365 * 10);
  return std::min(deadline, far);
}

// How long a mutation waits for its answer before it is written again, at
// first and at most.
constexpr std::chrono::milliseconds kFirstResend{100};
// The same for a session request (open, keep-alive, close): later, so that a
// broker that is merely slow to answer is not sent each of them twice.
constexpr std::chrono::milliseconds kFirstControlResend{500};
constexpr std::chrono::milliseconds kMaxResendGap{2000};

}  // namespace

absl::StatusOr<v1::Response> PendingCall::Take() {
  if (!error.ok()) return std::move(error);
  return FromResponse(std::move(response));
}

StreamCore::StreamCore(ClientOptions options)
    : ClientCore(options.callback_threads),
      options_(std::move(options)),
      handshake_timeout_(std::clamp<std::chrono::milliseconds>(
          options_.connect_timeout, std::chrono::seconds(1), std::chrono::seconds(30))),
      watch_hub_(std::make_shared<WatchHub>(options_.endpoints, MakeCredentials(options_))),
      ttl_(std::max<std::chrono::milliseconds>(options_.session_ttl, std::chrono::seconds(1))) {
  cancel_target_->core = this;
  writer_ = std::thread([this] { WriterLoop(); });
  session_ = std::thread([this] { SessionLoop(); });
  cleanup_ = std::thread([this] { CleanupLoop(); });
  timer_ = std::thread([this] { TimerLoop(); });
}

StreamCore::~StreamCore() {
  watch_hub_->Shutdown();
  // Closing the session frees whatever the cleanup thread would give back.
  cleanup_stop_.request_stop();
  { std::lock_guard<std::mutex> lock(mu_); }  // The cleanup thread is waiting, or sees the stop.
  cleanup_cv_.notify_all();
  cleanup_.join();
  EndSession(Clock::now() + std::chrono::milliseconds(500));
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  writer_cv_.notify_all();
  state_cv_.notify_all();
  session_cv_.notify_all();
  timer_cv_.notify_all();
  writer_.join();
  session_.join();
  timer_.join();
  {
    // Waits for a stop_callback that is running, and turns later ones into
    // no-ops. Every call is complete by now (the writer failed the rest).
    std::lock_guard<std::mutex> lock(cancel_target_->mu);
    cancel_target_->core = nullptr;
  }
  std::vector<Channel<SessionState>> watchers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    watchers.swap(watchers_);
  }
  for (Channel<SessionState>& w : watchers) w.Close();
}

ResponseState StreamCore::CallAsync(v1::Request request, const CallOptions& options,
                                    CallKind kind) {
  const auto deadline =
      Clamp(EffectiveDeadline(options, std::chrono::nanoseconds(options_.default_call_timeout)));
  Kind k;
  static_cast<CallKind&>(k) = std::move(kind);
  return Start(std::move(request), deadline, options.cancel, std::move(k));
}

absl::StatusOr<v1::Response> StreamCore::Call(v1::Request request, const CallOptions& options,
                                              bool idempotent) {
  return Await(CallAsync(std::move(request), options, CallKind{.idempotent = idempotent}));
}

absl::StatusOr<v1::Response> StreamCore::CallBlocking(v1::Request request,
                                                      const CallOptions& options,
                                                      GiveBack give_back) {
  return Await(CallAsync(std::move(request), options,
                         CallKind{.blocking = true, .give_back = std::move(give_back)}));
}

std::shared_ptr<PendingCall> StreamCore::Start(v1::Request request, Clock::time_point deadline,
                                               const std::stop_token& cancel, Kind kind) {
  auto call = std::make_shared<PendingCall>(executor());
  if (cancel.stop_requested()) {
    call->Fail(absl::CancelledError("call cancelled"));
    return call;
  }
  const size_t bytes = request.ByteSizeLong();
  if (bytes > kMaxRequestBytes) {
    call->Fail(absl::InvalidArgumentError(absl::StrCat(
        "request of ", bytes, " bytes exceeds the limit of ", kMaxRequestBytes, " bytes")));
    return call;
  }
  const bool control = kind.control;
  call->idempotent = kind.idempotent;
  call->control = control;
  call->blocking = kind.blocking;
  call->deadline = deadline;
  call->give_back = std::move(kind.give_back);
  call->pinned_session = control ? 0 : request.session_id();
  call->bytes = bytes;
  call->resend_gap = control ? kFirstControlResend : kFirstResend;
  call->request = std::move(request);
  const bool cancellable = cancel.stop_possible();
  bool wake_writer = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    absl::Status refused;
    if (shutdown_) {
      refused = absl::CancelledError("client closed");
    } else if (call->pinned_session != 0 && call->pinned_session != session_id_) {
      refused = SessionLostError(call->pinned_session, "it is not the client's session any more");
    }
    if (!refused.ok()) {
      call->Fail(std::move(refused));
      return call;
    }
    call->id = next_id_++;
    call->request.set_id(call->id);
    call->where = PendingCall::Where::kQueued;
    call->self = call;
    (control ? control_queue_ : queue_).PushBack(call.get());
    WakeTimerLocked(deadline);
    // A call that can be cancelled is sent once its cancel is registered,
    // below; any other at once.
    if (!cancellable) wake_writer = SendLocked(lock, *call);
  }
  if (cancellable) {
    // Runs on the thread that stops `cancel` (at once if it is stopped
    // already); it holds the call while it runs, so the call's destructor
    // never waits for it under a lock. Registered once the call is queued
    // (a cancel before that would find nothing to end) and before it may
    // be written from this thread.
    call->on_cancel.emplace(cancel, [target = cancel_target_,
                                     weak = std::weak_ptr<PendingCall>(call)]() {
      std::shared_ptr<PendingCall> c = weak.lock();
      if (c == nullptr) return;
      std::lock_guard<std::mutex> lock(target->mu);
      if (target->core != nullptr) target->core->CancelCall(*c);
    });
    std::unique_lock<std::mutex> lock(mu_);
    wake_writer = SendLocked(lock, *call);
  }
  if (wake_writer) writer_cv_.notify_one();
  return call;
}

bool StreamCore::SendLocked(std::unique_lock<std::mutex>& lock, PendingCall& call) {
  if (call.where != PendingCall::Where::kQueued) return false;  // Ended meanwhile.
  if (!call.control && call.bytes <= kMaxDirectWriteBytes && MayWriteDirectlyLocked()) {
    // The client is idle: write the call from this thread rather than wake
    // the writer for it, saving a thread hop on the way out. Only a small
    // one, which the stream's flow-control window takes at once.
    v1::RequestBatch batch;
    WriteBatchLocked(lock, *stream_, batch);
    return true;  // The writer may have queued calls, or a broken stream, to see to.
  }
  return writer_idle_;
}

void StreamCore::CancelCall(PendingCall& call) {
  absl::Status gave_up;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gave_up = AbandonLocked(call, /*cancelled=*/true);
  }
  if (!gave_up.ok()) call.Fail(std::move(gave_up));
}

void StreamCore::WakeTimerLocked(Clock::time_point when) {
  if (when >= timer_next_) return;
  timer_next_ = when;
  timer_kick_ = true;
  timer_cv_.notify_one();
}

void StreamCore::TimerLoop() {
  pthread_setname_np(pthread_self(), "atomix-timer");
  std::vector<std::shared_ptr<PendingCall>> expired;
  std::vector<absl::Status> errors;
  std::vector<PendingCall*> due;
  std::unique_lock<std::mutex> lock(mu_);
  while (!shutdown_) {
    const Clock::time_point now = Clock::now();
    Clock::time_point next = Clock::time_point::max();
    // Deadlines first, wherever the call is; then resends of calls in
    // flight. A read, a mutation with a sequence number, or an idempotent
    // session request is written again each time its interval passes
    // without an answer (doubling from 100 ms, 500 ms for a session
    // request, up to 2 s); the broker answers a repeated mutation with its
    // first answer, and a repeated open with the same session. Other
    // requests wait for their deadline.
    for (CallQueue* q : {&control_queue_, &queue_}) {
      for (PendingCall* c = q->front(); c != nullptr; c = c->next) {
        if (c->deadline <= now) {
          due.push_back(c);
        } else {
          next = std::min(next, c->deadline);
        }
      }
    }
    bool wake_writer = false;
    std::vector<PendingCall*> resend;
    for (auto& [id, c] : in_flight_) {
      if (c->deadline <= now) {
        due.push_back(c);
        continue;
      }
      next = std::min(next, c->deadline);
      if (!c->resends()) continue;
      if (c->resend_at <= now) {
        resend.push_back(c);
      } else {
        next = std::min(next, c->resend_at);
      }
    }
    for (PendingCall* c : resend) {
      wake_writer |= ResendLocked(*c);
      if (c->where == PendingCall::Where::kQueued) {
        // Set again when it is written.
        c->resend_gap = std::min(c->resend_gap * 2, kMaxResendGap);
        c->resend_at = Clock::time_point::max();
      } else if (c->resendable() && c->request.op_case() == v1::Request::OP_NOT_SET) {
        // Being written right now: look again shortly.
        c->resend_at = now + kFirstResend / 10;
        next = std::min(next, c->resend_at);
      } else {
        c->resend_at = Clock::time_point::max();  // Not safe to send again.
      }
    }
    for (PendingCall* c : due) {
      std::shared_ptr<PendingCall> keep = c->self;
      absl::Status gave_up = AbandonLocked(*c, /*cancelled=*/false);
      if (gave_up.ok()) continue;
      expired.push_back(std::move(keep));
      errors.push_back(std::move(gave_up));
    }
    due.clear();
    timer_next_ = next;
    timer_kick_ = false;
    if (wake_writer) writer_cv_.notify_one();
    if (!expired.empty()) {
      lock.unlock();
      for (size_t i = 0; i < expired.size(); ++i) expired[i]->Fail(std::move(errors[i]));
      expired.clear();
      errors.clear();
      lock.lock();
      continue;
    }
    timer_cv_.wait_until(lock, next, [&] { return shutdown_ || timer_kick_; });
  }
}

bool StreamCore::ResendLocked(PendingCall& call) {
  if (call.where != PendingCall::Where::kInFlight) return false;
  const bool exactly_once =
      call.sequence != 0 && session_id_ != 0 && call.session_id == session_id_;
  if (!call.idempotent && !exactly_once) return false;
  // Still being written: its request is in the writer's batch right now.
  if (call.request.op_case() == v1::Request::OP_NOT_SET) return false;
  in_flight_.erase(call.id);
  call.where = PendingCall::Where::kQueued;
  (call.control ? control_queue_ : queue_).PushFront(&call);
  return writer_idle_;
}

absl::Status StreamCore::AbandonLocked(PendingCall& call, bool cancelled) {
  switch (call.where) {
    case PendingCall::Where::kNone:
      return absl::OkStatus();
    case PendingCall::Where::kQueued:
      (call.control ? control_queue_ : queue_).Remove(&call);
      call.where = PendingCall::Where::kNone;
      if (!call.sent || !LeaveBehindLocked(call)) ForgetSequenceLocked(call);
      if (cancelled) return absl::CancelledError("call cancelled");
      if (call.sent && call.idempotent && !connected_) {
        // A read written to a stream that broke: its fate does not matter,
        // what the caller needs to know is that the broker is unreachable.
        return NotConnectedErrorLocked();
      }
      if (call.sent) {
        // Written before the stream broke, and waiting to be sent again.
        return absl::DeadlineExceededError(absl::StrCat(
            "deadline exceeded while reconnecting to ", endpoint_,
            "; the operation may or may not have been applied"));
      }
      if (!connected_) return NotConnectedErrorLocked();
      return absl::DeadlineExceededError(
          absl::StrCat("deadline exceeded before the request could be sent to broker ", endpoint_));
    case PendingCall::Where::kInFlight:
      in_flight_.erase(call.id);
      call.where = PendingCall::Where::kNone;
      if (!LeaveBehindLocked(call)) ForgetSequenceLocked(call);
      if (cancelled) return absl::CancelledError("call cancelled");
      return absl::DeadlineExceededError(
          absl::StrCat("deadline exceeded waiting for broker ", endpoint_,
                       "; the operation may or may not have been applied"));
  }
  return absl::OkStatus();
}

absl::Status StreamCore::NotConnectedErrorLocked() const {
  if (last_unauthenticated_) {
    return absl::UnauthenticatedError(
        absl::StrCat("broker ", endpoint_, " refused the client's credentials: ", last_error_));
  }
  return UnavailableError(options_.endpoints,
                          last_error_.empty() ? std::string("not connected yet") : last_error_);
}

absl::Status StreamCore::WaitConnected(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  state_cv_.wait_until(lock, Clamp(deadline),
                       [&] { return (connected_ && session_ready_) || shutdown_; });
  if (connected_ && session_ready_) return absl::OkStatus();
  if (connected_) {
    return absl::UnavailableError(
        absl::StrCat("connected to ", endpoint_, " but could not open a session in time"));
  }
  return NotConnectedErrorLocked();
}

std::string StreamCore::connected_endpoint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connected_ ? endpoint_ : std::string();
}

std::string StreamCore::broker_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connected_ ? broker_id_ : std::string();
}

void StreamCore::TEST_HoldWrites(bool hold) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    hold_writes_ = hold;
  }
  writer_cv_.notify_all();
}

size_t StreamCore::TEST_Queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t StreamCore::TEST_InFlight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_.size();
}

void StreamCore::TEST_BreakStream() {
  std::lock_guard<std::mutex> lock(mu_);
  if (context_ != nullptr) context_->TryCancel();
}

uint64_t StreamCore::TEST_AckSequence() const {
  std::lock_guard<std::mutex> lock(mu_);
  return AckLocked();
}

}  // namespace atomix::internal
