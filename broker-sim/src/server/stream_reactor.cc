// Broker.Stream reactor.
#include "broker-sim/src/server/stream_reactor.h"

#include <atomic>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/core/split.h"
#include "broker-sim/src/server/raw_message.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

uint64_t NextStreamId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

StreamReactor::StreamReactor(Broker& broker, CompletionRouter& router,
                             FaultInjector& faults, CallRegistry& calls,
                             grpc::CallbackServerContext* context,
                             StreamOptions options, std::string principal)
    : broker_(broker),
      router_(router),
      faults_(faults),
      calls_(calls),
      options_(options),
      stream_id_(NextStreamId()),
      peer_(context->peer()),
      principal_(std::move(principal)),
      context_(context) {
  spdlog::debug("stream {} opened by {}", stream_id_, peer_);
  origin_ = router_.Register(this);
  call_id_ = calls_.Register(context);
  v1::ResponseBatch hello;
  *hello.mutable_info() = broker_.Info();
  absl::MutexLock lock(&mu_);
  grpc::ByteBuffer bytes = SerializeMessage(hello);
  AddQueued(bytes.Length());
  queue_.push_back(std::move(bytes));
  MaybeWrite();
  MaybeRead();
}

void StreamReactor::OnReadDone(bool ok) {
  if (!ok) {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    read_closed_ = true;
    MaybeFinish();
    return;
  }
  // The batch is handed to the broker, which may answer it later (see
  // Answered); the next read starts at once, so a store that answers
  // asynchronously sees this stream's next batches meanwhile.
  uint64_t number = 0;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) {
      reading_ = false;
      return;
    }
    number = ++batches_;
  }
  v1::RequestBatch batch;
  grpc::Status parsed = ParseMessage(
      request_, "atomix.v1.Broker/Stream",
      absl::StrCat("message ", number, " of this stream"), batch, context_);
  request_.Clear();
  if (!parsed.ok()) {
    spdlog::debug("stream {} from {}: {}", stream_id_, peer_,
                  parsed.error_message());
    absl::MutexLock lock(&mu_);
    reading_ = false;
    read_closed_ = true;
    read_error_ = std::move(parsed);
    MaybeFinish();
    return;
  }
  if (spdlog::should_log(spdlog::level::trace)) {
    spdlog::trace("stream {}: batch of {} requests", stream_id_,
                  batch.requests_size());
  }
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  broker_.ExecuteAsync(std::move(batch), origin_, principal_,
                       [this](v1::ResponseBatch& out,
                              std::vector<Completion>& completions) {
                         Answered(out, completions);
                       });
  absl::MutexLock lock(&mu_);
  reading_ = false;
  MaybeRead();
}

void StreamReactor::Answered(v1::ResponseBatch& out,
                             std::vector<Completion>& completions) {
  if (faults_.enabled()) {
    faults_.Delay();
    auto* responses = out.mutable_responses();
    for (int i = responses->size() - 1; i >= 0; --i) {
      if (faults_.Drop()) responses->DeleteSubrange(i, 1);
    }
  }
  // Late answers for other streams (or this one); never with mu_ held.
  router_.Route(completions);
  absl::MutexLock lock(&mu_);
  --in_flight_;
  if (!finished_ && out.responses_size() > 0) Enqueue(std::move(out));
  MaybeWrite();
  MaybeRead();
  MaybeFinish();
}

void StreamReactor::Deliver(std::vector<v1::Response> responses) {
  v1::ResponseBatch batch;
  for (v1::Response& response : responses) {
    if (faults_.Drop()) continue;
    *batch.add_responses() = std::move(response);
  }
  if (batch.responses_size() == 0) return;
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  Enqueue(std::move(batch));
  MaybeWrite();
}

void StreamReactor::Enqueue(v1::ResponseBatch batch) {
  for (v1::ResponseBatch& part :
       SplitResponseBatch(std::move(batch), options_.max_batch_bytes)) {
    grpc::ByteBuffer bytes = SerializeMessage(part);
    AddQueued(bytes.Length());
    queue_.push_back(std::move(bytes));
  }
}

void StreamReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok) {
    write_failed_ = true;
    ClearQueue();
    MaybeFinish();
    return;
  }
  SubQueued(queue_.front().Length());
  queue_.pop_front();
  MaybeWrite();
  MaybeRead();
  MaybeFinish();
}

void StreamReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  MaybeFinish();
}

void StreamReactor::OnDone() {
  // After Unregister no Deliver can run; then nothing waits for this stream.
  router_.Unregister(origin_);
  calls_.Unregister(call_id_);
  {
    // Batches still being applied answer into this reactor: wait for them
    // (a store answers every batch within its timeout).
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* in_flight) { return *in_flight == 0; }, &in_flight_));
  }
  broker_.Cancel(origin_);
  {
    absl::MutexLock lock(&mu_);
    spdlog::debug("stream {} from {} closed after {} batches{}", stream_id_,
                  peer_, batches_, cancelled_ ? " (cancelled)" : "");
  }
  delete this;
}

void StreamReactor::AddQueued(size_t n) {
  queued_bytes_ += n;
  if (options_.total_queued_bytes != nullptr) {
    options_.total_queued_bytes->fetch_add(n, std::memory_order_relaxed);
  }
}

void StreamReactor::SubQueued(size_t n) {
  queued_bytes_ -= n;
  if (options_.total_queued_bytes != nullptr) {
    options_.total_queued_bytes->fetch_sub(n, std::memory_order_relaxed);
  }
}

void StreamReactor::ClearQueue() {
  SubQueued(queued_bytes_);
  queue_.clear();
}

void StreamReactor::MaybeWrite() {
  if (writing_ || finished_ || queue_.empty()) return;
  writing_ = true;
  StartWrite(&queue_.front());
}

void StreamReactor::MaybeRead() {
  if (reading_ || read_closed_ || finished_ || cancelled_ || write_failed_ ||
      queue_.size() + in_flight_ >= options_.max_queued_batches ||
      queued_bytes_ > options_.max_queued_bytes ||
      (queued_bytes_ > 0 && options_.total_queued_bytes != nullptr &&
       options_.total_queued_bytes->load(std::memory_order_relaxed) >
           options_.max_total_queued_bytes)) {
    return;
  }
  reading_ = true;
  StartRead(&request_);
}

void StreamReactor::MaybeFinish() {
  if (finished_ || writing_) return;
  if (cancelled_ || write_failed_) {
    finished_ = true;
    ClearQueue();
    Finish(grpc::Status::CANCELLED);
  } else if (read_closed_ && queue_.empty() && in_flight_ == 0) {
    // Every earlier batch is answered and written; a message that did not
    // parse ends the call with its error.
    finished_ = true;
    Finish(read_error_);
  }
}

}  // namespace atomix::broker
