// StreamCore, the connection side: the writer thread (connect, coalesce,
// write, recover) and the per-stream reader thread.
#include <pthread.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sdk/src/backoff.h"
#include "sdk/src/channel.h"
#include "sdk/src/stream_transport.h"

namespace atomix::internal {
namespace {

void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

// How many times the writer yields to let a growing batch fill up.
constexpr int kMaxYields = 8;
// Upper bound on the tag and length bytes around one request in a batch.
constexpr size_t kFramingBytes = 8;

}  // namespace

void StreamCore::WriterLoop() {
  NameThisThread("atomix-writer");
  Backoff backoff(std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
  size_t next = 0;
  std::unique_lock<std::mutex> lock(mu_);
  while (!shutdown_) {
    const auto delay = backoff.Next();
    if (delay.count() > 0 && writer_cv_.wait_for(lock, delay, [&] { return shutdown_; })) break;
    const size_t index = next;
    if (RunStream(lock, index)) {
      // Start over from the first endpoint, at once.
      backoff.Reset();
      next = 0;
    } else {
      next = (index + 1) % options_.endpoints.size();
    }
  }
  // Only reachable from the destructor, when no Call() is running; this is
  // a safety net.
  for (CallQueue* q : {&control_queue_, &queue_}) {
    while (!q->empty()) {
      PendingCall* call = q->PopFront();
      call->where = PendingCall::Where::kNone;
      call->Fail(absl::CancelledError("client closed"));
    }
  }
}

bool StreamCore::RunStream(std::unique_lock<std::mutex>& lock, size_t index) {
  const std::string& endpoint = options_.endpoints[index];
  // A fresh channel per stream: a channel that just failed would refuse new
  // calls until its own backoff ends, which would add to ours. Our backoff
  // is the only one, so a restarted broker is found within about a second.
  lock.unlock();
  std::unique_ptr<v1::Broker::Stub> stub = v1::Broker::NewStub(MakeChannel(endpoint, watch_hub_->credentials()));
  lock.lock();
  grpc::ClientContext context;
  context_ = &context;
  endpoint_ = endpoint;
  connected_ = false;
  greeted_ = false;
  stream_broken_ = false;
  reader_done_ = false;
  session_ready_ = false;  // Until the session thread checks it on this stream.
  if (shutdown_) {
    context_ = nullptr;
    return false;
  }

  // Opening the stream blocks until the channel connects or fails; the
  // destructor's TryCancel() ends the wait.
  lock.unlock();
  std::unique_ptr<Stream> stream = stub->Stream(&context);
  std::thread reader([this, s = stream.get()] { ReadLoop(s); });
  lock.lock();

  const bool answered = writer_cv_.wait_for(
      lock, handshake_timeout_, [&] { return shutdown_ || stream_broken_ || greeted_; });
  if (connected_) {
    stream_ = stream.get();
    PumpLocked(lock, *stream);
    // No caller writes to it from now on; wait for one that is writing.
    stream_ = nullptr;
    writer_cv_.wait(lock, [&] { return !writing_; });
  }
  connected_ = false;
  if (!reader_done_ && stream_broken_ && !shutdown_) {
    // A failed Write: give the reader a moment to collect the real status.
    writer_cv_.wait_for(lock, std::chrono::milliseconds(200),
                        [&] { return reader_done_ || shutdown_; });
  }
  const bool cancel = !reader_done_;
  lock.unlock();

  if (cancel) context.TryCancel();
  reader.join();
  const grpc::Status status = stream->Finish();

  lock.lock();
  context_ = nullptr;
  if (!answered) {
    last_error_ =
        absl::StrCat("no answer from ", endpoint, " within ", handshake_timeout_.count(), " ms");
  } else if (status.ok()) {
    last_error_ = absl::StrCat("broker ", endpoint, " closed the stream");
  } else if (!shutdown_) {
    last_error_ = status.error_message();
  }
  // A broker that refuses our credentials says so until they change.
  last_unauthenticated_ = answered && status.error_code() == grpc::StatusCode::UNAUTHENTICATED;
  RecoverInFlightLocked(endpoint);
  session_cv_.notify_all();
  return greeted_;
}

void StreamCore::PumpLocked(std::unique_lock<std::mutex>& lock, Stream& stream) {
  v1::RequestBatch batch;
  for (;;) {
    writer_idle_ = true;
    writer_cv_.wait(lock, [&] {
      return shutdown_ || stream_broken_ ||
             (!writing_ && (!control_queue_.empty() || (!queue_.empty() && !hold_writes_ &&
                                                        session_ready_ &&
                                                        !SequenceWindowFullLocked())));
    });
    writer_idle_ = false;
    if (shutdown_ || stream_broken_) return;
    // Let callers that are already runnable (typically the ones the reader
    // just completed) enqueue before the batch is cut: yield while the queue
    // keeps growing. Not a timer: with nothing else runnable, yield returns
    // at once and the batch goes out.
    const size_t full = static_cast<size_t>(std::max(1, options_.max_batch_requests));
    for (int i = 0; i < kMaxYields && queue_.size() < full; ++i) {
      const size_t queued = queue_.size();
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
      if (queue_.size() == queued) break;
    }
    if (shutdown_ || stream_broken_) return;

    if (writing_) continue;  // A caller wrote meanwhile.
    if (!WriteBatchLocked(lock, stream, batch)) return;
  }
}

bool StreamCore::WriteBatchLocked(std::unique_lock<std::mutex>& lock, Stream& stream,
                                  v1::RequestBatch& batch) {
  const bool any_resendable = TakeBatchLocked(batch);
  if (batch.requests_size() == 0) return true;  // Every call taken was failed.
  writing_ = true;
  lock.unlock();
  const bool ok = stream.Write(batch);
  lock.lock();
  writing_ = false;
  if (any_resendable) RestoreRequestsLocked(batch);
  batch.Clear();
  if (!ok) {
    stream_broken_ = true;
    connected_ = false;
    session_cv_.notify_all();
  }
  return ok;
}

bool StreamCore::MayWriteDirectlyLocked() const {
  // Only a client with nothing else going on: under concurrency the writer
  // coalesces, which is worth more than the hop it costs.
  return stream_ != nullptr && writer_idle_ && !writing_ && !stream_broken_ && !shutdown_ &&
         in_flight_.empty() && queue_.size() == 1 && control_queue_.empty() && session_ready_ &&
         !hold_writes_ && !SequenceWindowFullLocked();
}

bool StreamCore::TakeBatchLocked(v1::RequestBatch& batch) {
  const int max_requests = std::max(1, options_.max_batch_requests);
  const Clock::time_point now = Clock::now();
  Clock::time_point first_resend = Clock::time_point::max();
  size_t bytes = 0;
  bool any_resendable = false;
  // Session requests first, then callers' calls once the session is good.
  for (CallQueue* q : {&control_queue_, &queue_}) {
    const bool control = q == &control_queue_;
    if (!control && (hold_writes_ || !session_ready_)) break;
    while (!q->empty() && batch.requests_size() < max_requests) {
      if (!control && SequenceWindowFullLocked()) break;
      PendingCall* call = q->front();
      const size_t framed = call->bytes + kFramingBytes;
      if (batch.requests_size() > 0 && bytes + framed > kMaxBatchBytes) break;
      q->PopFront();
      if (control) {
        if (session_id_ != 0 && call->request.session_id() == session_id_) {
          call->request.set_ack_sequence(AckLocked());
        }
      } else if (!StampLocked(*call)) {
        continue;
      }
      bytes += framed;
      call->sent = true;
      any_resendable |= call->resendable();
      *batch.add_requests() = std::move(call->request);
      call->where = PendingCall::Where::kInFlight;
      if (call->resends()) {
        call->resend_at = now + call->resend_gap;
        first_resend = std::min(first_resend, call->resend_at);
      }
      in_flight_.emplace(call->id, call);
    }
  }
  WakeTimerLocked(first_resend);
  return any_resendable;
}

void StreamCore::RestoreRequestsLocked(v1::RequestBatch& batch) {
  for (v1::Request& request : *batch.mutable_requests()) {
    auto it = in_flight_.find(request.id());
    if (it == in_flight_.end()) continue;
    PendingCall* call = it->second;
    if (call->resendable()) call->request = std::move(request);
  }
}

void StreamCore::RecoverInFlightLocked(const std::string& endpoint) {
  std::vector<PendingCall*> resend;
  for (auto& [id, call] : in_flight_) {
    const bool exactly_once =
        call->sequence != 0 && session_id_ != 0 && call->session_id == session_id_;
    if (!call->control && (call->idempotent || exactly_once)) {
      resend.push_back(call);
    } else {
      call->where = PendingCall::Where::kNone;
      call->Fail(absl::UnavailableError(absl::StrCat(
          "connection to ", endpoint, " lost; the operation may or may not have been applied")));
    }
  }
  in_flight_.clear();
  // Back to the head of the queue, oldest first.
  std::sort(resend.begin(), resend.end(),
            [](const PendingCall* a, const PendingCall* b) { return a->id > b->id; });
  for (PendingCall* call : resend) {
    call->where = PendingCall::Where::kQueued;
    queue_.PushFront(call);
  }
}

void StreamCore::ReadLoop(Stream* stream) {
  NameThisThread("atomix-reader");
  v1::ResponseBatch batch;
  std::vector<std::pair<PendingCall*, v1::Response*>> ready;
  while (stream->Read(&batch)) {
    ready.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (batch.has_info() && !greeted_) {
        greeted_ = true;
        connected_ = true;
        ++stream_epoch_;
        broker_id_ = batch.info().broker_id();
        writer_cv_.notify_all();
        state_cv_.notify_all();
        session_cv_.notify_all();
      }
      for (v1::Response& response : *batch.mutable_responses()) {
        auto it = in_flight_.find(response.id());
        if (it == in_flight_.end()) continue;  // Its caller gave up.
        PendingCall* call = it->second;
        in_flight_.erase(it);
        call->where = PendingCall::Where::kNone;
        ForgetSequenceLocked(*call);
        if (!call->control && session_id_ != 0 && call->session_id == session_id_ &&
            response.has_error() &&
            response.error().code() == static_cast<int>(absl::StatusCode::kAborted)) {
          // Perhaps the broker forgot the session: check it now.
          check_session_ = true;
          session_cv_.notify_all();
        }
        ready.emplace_back(call, &response);
      }
    }
    // Hand the answers out as a binary tree: the reader wakes the first
    // caller, and each woken caller wakes two more (see PendingCall).
    for (size_t i = 0; i < ready.size(); ++i) {
      PendingCall* next0 = 2 * i + 1 < ready.size() ? ready[2 * i + 1].first : nullptr;
      PendingCall* next1 = 2 * i + 2 < ready.size() ? ready[2 * i + 2].first : nullptr;
      ready[i].first->Deliver(std::move(*ready[i].second), next0, next1);
    }
    if (!ready.empty()) ready[0].first->SetReady();
  }
  std::lock_guard<std::mutex> lock(mu_);
  reader_done_ = true;
  stream_broken_ = true;
  connected_ = false;
  writer_cv_.notify_all();
  session_cv_.notify_all();
}

}  // namespace atomix::internal
