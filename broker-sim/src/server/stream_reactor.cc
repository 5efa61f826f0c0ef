// Broker.Stream reactor.
#include "broker-sim/src/server/stream_reactor.h"

#include <atomic>
#include <utility>
#include <vector>

#include "broker-sim/src/core/split.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

uint64_t NextStreamId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

StreamReactor::StreamReactor(Broker& broker,
                             grpc::CallbackServerContext* context,
                             StreamOptions options)
    : broker_(broker),
      options_(options),
      stream_id_(NextStreamId()),
      peer_(context->peer()) {
  spdlog::debug("stream {} opened by {}", stream_id_, peer_);
  v1::ResponseBatch hello;
  *hello.mutable_info() = broker_.Info();
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(hello));
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
  // reading_ stays true until the responses are queued, so no other read
  // can reuse request_ meanwhile.
  bool skip = false;
  {
    absl::MutexLock lock(&mu_);
    skip = finished_;
  }
  std::vector<v1::ResponseBatch> parts;
  if (!skip) {
    if (spdlog::should_log(spdlog::level::trace)) {
      spdlog::trace("stream {}: batch of {} requests", stream_id_,
                    request_.requests_size());
    }
    v1::ResponseBatch out;
    broker_.Execute(request_, out);
    parts = SplitResponseBatch(std::move(out), options_.max_batch_bytes);
  }
  request_.Clear();

  absl::MutexLock lock(&mu_);
  reading_ = false;
  ++batches_;
  if (finished_) return;
  for (v1::ResponseBatch& part : parts) queue_.push_back(std::move(part));
  MaybeWrite();
  MaybeRead();
}

void StreamReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok) {
    write_failed_ = true;
    queue_.clear();
    MaybeFinish();
    return;
  }
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
  {
    absl::MutexLock lock(&mu_);
    spdlog::debug("stream {} from {} closed after {} batches{}", stream_id_,
                  peer_, batches_, cancelled_ ? " (cancelled)" : "");
  }
  delete this;
}

void StreamReactor::MaybeWrite() {
  if (writing_ || finished_ || queue_.empty()) return;
  writing_ = true;
  StartWrite(&queue_.front());
}

void StreamReactor::MaybeRead() {
  if (reading_ || read_closed_ || finished_ || cancelled_ || write_failed_ ||
      queue_.size() >= options_.max_queued_batches) {
    return;
  }
  reading_ = true;
  StartRead(&request_);
}

void StreamReactor::MaybeFinish() {
  if (finished_ || writing_) return;
  if (cancelled_ || write_failed_) {
    finished_ = true;
    queue_.clear();
    Finish(grpc::Status::CANCELLED);
  } else if (read_closed_ && queue_.empty()) {
    finished_ = true;
    Finish(grpc::Status::OK);
  }
}

}  // namespace atomix::broker
