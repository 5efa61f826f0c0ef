// Internal: one call in the stream transport, and the FIFO of calls not yet
// written.
//
// A PendingCall is the state of the Future its caller holds (a
// FutureState<v1::Response>, its own FutureSignal). Its request and its place
// in the transport's structures (`where`, the queue links, the timers) belong
// to the transport and are guarded by the transport's mutex. While it is in
// those structures (`where` is not kNone) the transport keeps it alive
// through `self`. Whoever takes it out (sets `where` to kNone) completes it:
// Complete() or Fail(), or Deliver() followed by SetReady(), which drops
// `self` last. Its outcome (`error`, `response`) is written once, before
// SetReady(), and read by the consumer once it is ready.
//
// Thread-safety: as above; CallQueue is guarded by the owner's mutex.
#ifndef ATOMIX_SDK_SRC_PENDING_CALL_H_
#define ATOMIX_SDK_SRC_PENDING_CALL_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "atomix/internal/future_state.h"
#include "atomix/v1/broker.pb.h"
#include "sdk/src/give_back.h"

namespace atomix::internal {

struct PendingCall final : FutureState<v1::Response>, FutureSignal {
  enum class Where { kNone, kQueued, kInFlight };
  using Clock = std::chrono::steady_clock;

  explicit PendingCall(std::shared_ptr<Executor> executor) : FutureSignal(std::move(executor)) {}

  // FutureState: the broker's answer, or the error that ended the call; an
  // answer that carries an Error becomes that error.
  FutureSignal& signal() override { return *this; }
  absl::StatusOr<v1::Response> Take() override;

  // Guarded by the transport's mutex.
  v1::Request request;  // Empty while written, except for the id kept below.
  uint64_t id = 0;
  size_t bytes = 0;
  bool idempotent = false;
  // A session request of the transport itself (open, keep-alive, close):
  // it has its own queue, is never stamped and is never sent again.
  bool control = false;
  // Request.session_id as the caller set it (0: not pinned to a session).
  uint64_t pinned_session = 0;
  // A request the broker may hold until it can be granted (ClientCore::
  // CallBlocking): every write carries the time left before `deadline` as
  // Request.timeout_ms, and a caller that gives up after it was written
  // leaves `give_back` to the transport.
  bool blocking = false;
  Clock::time_point deadline;
  GiveBack give_back;
  // When an unanswered call is written again, and the wait after that.
  Clock::time_point resend_at = Clock::time_point::max();
  std::chrono::milliseconds resend_gap{0};
  // The (session, sequence) the request was first written with; a request
  // with a sequence keeps both when it is sent again.
  uint64_t session_id = 0;
  uint64_t sequence = 0;
  bool sent = false;  // Written at least once.
  // Whether its request is kept for writing it again: idempotent calls,
  // and callers' mutations with a sequence number.
  bool resendable() const { return idempotent || (!control && sequence != 0); }
  // Whether it is written again when resend_at passes without an answer.
  bool resends() const { return !control || idempotent; }
  Where where = Where::kNone;
  PendingCall* prev = nullptr;
  PendingCall* next = nullptr;
  std::shared_ptr<PendingCall> self;  // The transport's reference.

  // Set by the transport when the caller's stop_token may fire.
  std::optional<std::stop_callback<absl::AnyInvocable<void()>>> on_cancel;

  // Written once, before SetReady().
  absl::Status error;     // Set when the call failed without a Response.
  v1::Response response;  // The broker's answer when `error` is OK.

  // Stores the answer, and the calls to wake after this one; SetReady()
  // follows.
  void Deliver(v1::Response&& r, PendingCall* next0, PendingCall* next1) {
    response = std::move(r);
    StageChildren(next0, next1);
  }
  // Completes the call with a response or an error. Never called twice.
  void Complete(v1::Response&& r) {
    response = std::move(r);
    SetReady();
  }
  void Fail(absl::Status s) {
    error = std::move(s);
    SetReady();
  }

 protected:
  // The transport is done with it: drop its reference (which may be the
  // last one).
  void Released() override { std::shared_ptr<PendingCall> last = std::move(self); }
};

// An intrusive FIFO of PendingCalls with O(1) removal from the middle.
class CallQueue {
 public:
  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  PendingCall* front() const { return head_; }

  void PushBack(PendingCall* c) {
    c->prev = tail_;
    c->next = nullptr;
    (tail_ ? tail_->next : head_) = c;
    tail_ = c;
    ++size_;
  }
  void PushFront(PendingCall* c) {
    c->prev = nullptr;
    c->next = head_;
    (head_ ? head_->prev : tail_) = c;
    head_ = c;
    ++size_;
  }
  void Remove(PendingCall* c) {
    (c->prev ? c->prev->next : head_) = c->next;
    (c->next ? c->next->prev : tail_) = c->prev;
    c->prev = c->next = nullptr;
    --size_;
  }
  PendingCall* PopFront() {
    PendingCall* c = head_;
    Remove(c);
    return c;
  }

 private:
  PendingCall* head_ = nullptr;
  PendingCall* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_PENDING_CALL_H_
