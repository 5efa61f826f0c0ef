// Internal: one Call() waiting in the stream transport, and the FIFO of calls
// not yet written.
//
// A PendingCall lives on the stack of the thread inside StreamCore::Call().
// Its request and its place in the transport's structures (`where`, the
// queue links) belong to the transport and are guarded by the transport's
// mutex. Its outcome (`done`, `response`, `error`, `cancelled`) is guarded by
// its own `mu`. Whoever takes the call out of the transport's structures
// (sets `where` to kNone) must complete it, and the caller waits for that
// before its PendingCall goes away.
//
// Thread-safety: as above; CallQueue is guarded by the owner's mutex.
#ifndef ATOMIX_SDK_SRC_PENDING_CALL_H_
#define ATOMIX_SDK_SRC_PENDING_CALL_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "absl/status/status.h"
#include "atomix/v1/broker.pb.h"
#include "sdk/src/give_back.h"

namespace atomix::internal {

struct PendingCall {
  enum class Where { kNone, kQueued, kInFlight };

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
  std::chrono::steady_clock::time_point deadline;
  GiveBack give_back;
  // The (session, sequence) the request was first written with; a request
  // with a sequence keeps both when it is sent again.
  uint64_t session_id = 0;
  uint64_t sequence = 0;
  bool sent = false;  // Written at least once.
  // Whether its request is kept for writing it again: idempotent calls,
  // and callers' mutations with a sequence number.
  bool resendable() const { return idempotent || (!control && sequence != 0); }
  Where where = Where::kNone;
  PendingCall* prev = nullptr;
  PendingCall* next = nullptr;

  // Guarded by `mu`.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool cancelled = false;
  absl::Status error;     // Set when the call failed without a Response.
  v1::Response response;  // The broker's answer when `error` is OK.

  // Set with `response` by Deliver(): calls this caller completes once it
  // wakes, so that a batch of answers is handed out by many threads rather
  // than one by one from the reader.
  PendingCall* wake_next[2] = {nullptr, nullptr};

  // Stores the answer without waking the caller; MarkDone() follows.
  void Deliver(v1::Response&& r, PendingCall* next0, PendingCall* next1) {
    std::lock_guard<std::mutex> lock(mu);
    response = std::move(r);
    wake_next[0] = next0;
    wake_next[1] = next1;
  }
  void MarkDone() {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_one();  // Under the lock: the caller may destroy us once it sees `done`.
  }
  // Completes the call with a response or an error. Never called twice.
  void Complete(v1::Response&& r) {
    std::lock_guard<std::mutex> lock(mu);
    response = std::move(r);
    done = true;
    cv.notify_one();
  }
  void Fail(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    error = std::move(s);
    done = true;
    cv.notify_one();
  }
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
