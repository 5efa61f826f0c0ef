// StreamCore, the caller side: enqueue, wait, give up. The writer and reader
// threads are in stream_io.cc.
#include "sdk/src/stream_transport.h"

#include <algorithm>
#include <optional>
#include <stop_token>
#include <utility>

#include "absl/strings/str_cat.h"
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

// Wakes a waiting caller when its stop_token fires.
struct WakeOnCancel {
  PendingCall* call;
  void operator()() const {
    std::lock_guard<std::mutex> lock(call->mu);
    call->cancelled = true;
    call->cv.notify_one();
  }
};

}  // namespace

StreamCore::StreamCore(ClientOptions options)
    : options_(std::move(options)),
      handshake_timeout_(std::clamp<std::chrono::milliseconds>(
          options_.connect_timeout, std::chrono::seconds(1), std::chrono::seconds(30))),
      watch_hub_(std::make_shared<WatchHub>(options_.endpoints)),
      ttl_(std::max<std::chrono::milliseconds>(options_.session_ttl, std::chrono::seconds(1))) {
  writer_ = std::thread([this] { WriterLoop(); });
  session_ = std::thread([this] { SessionLoop(); });
  cleanup_ = std::thread([this] { CleanupLoop(); });
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
  writer_.join();
  session_.join();
  std::vector<Channel<SessionState>> watchers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    watchers.swap(watchers_);
  }
  for (Channel<SessionState>& w : watchers) w.Close();
}

absl::StatusOr<v1::Response> StreamCore::Call(v1::Request request, const CallOptions& options,
                                              bool idempotent) {
  return CallerCall(std::move(request), options, CallKind{.idempotent = idempotent});
}

absl::StatusOr<v1::Response> StreamCore::CallBlocking(v1::Request request,
                                                      const CallOptions& options,
                                                      GiveBack give_back) {
  return CallerCall(std::move(request), options,
                    CallKind{.blocking = true, .give_back = std::move(give_back)});
}

absl::StatusOr<v1::Response> StreamCore::CallerCall(v1::Request request,
                                                    const CallOptions& options, CallKind kind) {
  if (options.cancel.stop_requested()) return absl::CancelledError("call cancelled");
  const auto deadline =
      Clamp(EffectiveDeadline(options, std::chrono::nanoseconds(options_.default_call_timeout)));
  return CallImpl(std::move(request), deadline, options.cancel, std::move(kind));
}

absl::StatusOr<v1::Response> StreamCore::CallImpl(v1::Request request, Clock::time_point deadline,
                                                  const std::stop_token& cancel, CallKind kind) {
  const bool control = kind.control;
  const size_t bytes = request.ByteSizeLong();
  if (bytes > kMaxRequestBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request of ", bytes, " bytes exceeds the limit of ", kMaxRequestBytes, " bytes"));
  }
  PendingCall call;
  call.idempotent = kind.idempotent;
  call.control = control;
  call.blocking = kind.blocking;
  call.deadline = deadline;
  call.give_back = std::move(kind.give_back);
  call.pinned_session = control ? 0 : request.session_id();
  call.bytes = bytes;
  call.request = std::move(request);
  bool wake_writer = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_) return absl::CancelledError("client closed");
    if (call.pinned_session != 0 && call.pinned_session != session_id_) {
      return SessionLostError(call.pinned_session, "it is not the client's session any more");
    }
    call.id = next_id_++;
    call.request.set_id(call.id);
    call.where = PendingCall::Where::kQueued;
    (control ? control_queue_ : queue_).PushBack(&call);
    wake_writer = writer_idle_;
  }
  if (wake_writer) writer_cv_.notify_one();

  std::optional<std::stop_callback<WakeOnCancel>> on_cancel;
  if (cancel.stop_possible()) on_cancel.emplace(cancel, WakeOnCancel{&call});

  std::unique_lock<std::mutex> call_lock(call.mu);
  // Wait for the answer. A read, a mutation with a sequence number, or an
  // idempotent session request (open with its nonce, keep-alive, close) is
  // written again each time a resend interval passes without one (doubling
  // from 100 ms, 500 ms for a session request, up to 2 s); the broker
  // answers a repeated mutation with its first answer, and a repeated open
  // with the same session. Other requests wait until the deadline.
  const bool resends = !call.control || call.idempotent;
  auto resend_gap = call.control ? kFirstControlResend : kFirstResend;
  for (;;) {
    const auto until = resends ? std::min(deadline, Clock::now() + resend_gap) : deadline;
    if (call.cv.wait_until(call_lock, until, [&] { return call.done || call.cancelled; })) break;
    if (Clock::now() >= deadline || !resends) break;
    call_lock.unlock();
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      wake = ResendLocked(call);
    }
    if (wake) writer_cv_.notify_one();
    call_lock.lock();
    resend_gap = std::min(resend_gap * 2, kMaxResendGap);
  }
  if (!call.done) {
    const bool cancelled = call.cancelled;
    call_lock.unlock();
    absl::Status gave_up;
    {
      std::lock_guard<std::mutex> lock(mu_);
      gave_up = AbandonLocked(call, cancelled);
    }
    if (!gave_up.ok()) return gave_up;
    // Another thread took the call out and is completing it right now.
    call_lock.lock();
    call.cv.wait(call_lock, [&] { return call.done; });
  }
  call_lock.unlock();
  for (PendingCall* next : call.wake_next) {
    if (next != nullptr) next->MarkDone();
  }
  if (!call.error.ok()) return std::move(call.error);
  return FromResponse(std::move(call.response));
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
