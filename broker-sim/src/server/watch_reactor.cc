// Broker.Watch reactor.
#include "broker-sim/src/server/watch_reactor.h"

#include <atomic>
#include <utility>
#include <vector>

#include "broker-sim/src/core/split.h"
#include "broker-sim/src/core/validate.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/server/grpc_status.h"
#include "broker-sim/src/server/raw_message.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

uint64_t NextWatchId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

WatchReactor::WatchReactor(Broker& broker, WatchHub& hub, CallRegistry& calls,
                           grpc::CallbackServerContext* context,
                           const v1::WatchRequest& request,
                           WatchOptions options,
                           std::function<void()> on_done)
    : broker_(broker),
      hub_(hub),
      calls_(calls),
      context_(context),
      options_(options),
      watch_id_(NextWatchId()),
      on_done_(std::move(on_done)) {
  Start(request);
}

bool WatchReactor::Start(const v1::WatchRequest& request) {
  if (absl::Status status = ValidateWatchRequest(request, broker_.limits());
      !status.ok()) {
    absl::MutexLock lock(&mu_);
    finished_ = true;
    Finish(ToGrpc(status));
    return false;
  }
  name_ = request.name();
  type_ = request.type();
  if (request.has_key()) filter_.key = request.key();
  filter_.prefix = request.prefix();
  call_id_ = calls_.Register(context_);
  // Registered before the start revision is read: every later change wakes
  // this watcher.
  hub_.Register(name_, this);
  registered_ = true;

  v1::WatchSnapshot::Reason reason = v1::WatchSnapshot::REASON_UNSPECIFIED;
  if (request.replay()) {
    reason = v1::WatchSnapshot::REPLAY;
  } else if (request.start_revision() > 0 && !request.broker_id().empty() &&
             request.broker_id() != broker_.id()) {
    reason = v1::WatchSnapshot::NEW_BROKER;
  }
  absl::StatusOr<WatchStart> start = broker_.store().StartWatch(
      name_, type_, filter_, reason != v1::WatchSnapshot::REASON_UNSPECIFIED);

  absl::MutexLock lock(&mu_);
  if (finished_) return false;  // cancelled or closed meanwhile
  if (!start.ok()) {
    finished_ = true;
    Finish(ToGrpc(start.status()));
    return false;
  }
  spdlog::debug("watch {} on {} \"{}\" from {} at revision {}", watch_id_,
                std::string(TypeName(type_)), name_, context_->peer(),
                start->revision);
  v1::WatchHeader* header = parts_.emplace_back().mutable_header();
  header->set_broker_id(broker_.id());
  header->set_revision(start->revision);
  if (reason != v1::WatchSnapshot::REASON_UNSPECIFIED) {
    start->snapshot.set_reason(reason);
    for (v1::WatchResponse& part : SplitSnapshot(
             std::move(start->snapshot), options_.max_snapshot_part_bytes)) {
      parts_.push_back(std::move(part));
    }
    cursor_ = start->revision + 1;
    ++snapshots_;
  } else if (request.start_revision() > 0) {
    cursor_ = request.start_revision();
  } else {
    cursor_ = start->revision + 1;
  }
  started_ = true;
  MaybeWrite();
  MaybeFinish();
  return true;
}

void WatchReactor::Wake() {
  absl::MutexLock lock(&mu_);
  MaybeWrite();
}

void WatchReactor::Close() {
  absl::MutexLock lock(&mu_);
  if (!end_.has_value()) {
    end_ = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the broker is shutting down");
  }
  MaybeFinish();
}

void WatchReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  // Release the message's memory now, not at the next write.
  out_ = v1::WatchResponse();
  out_bytes_.Clear();
  if (!ok) cancelled_ = true;
  MaybeWrite();
  MaybeFinish();
}

void WatchReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  MaybeFinish();
}

void WatchReactor::OnDone() {
  // After these no wake-up or reset can reach the reactor.
  if (registered_) {
    hub_.Unregister(name_, this);
    calls_.Unregister(call_id_);
    absl::MutexLock lock(&mu_);
    spdlog::debug("watch {} on \"{}\" closed after {} messages, {} snapshots{}",
                  watch_id_, name_, messages_, snapshots_,
                  cancelled_ ? " (cancelled)" : "");
  }
  if (on_done_) on_done_();
  delete this;
}

void WatchReactor::MaybeWrite() {
  if (!started_ || writing_ || finished_ || cancelled_ || end_.has_value()) {
    return;
  }
  if (parts_.empty()) {
    const WatchBudget budget{.max_bytes = options_.max_message_bytes,
                             .max_events = options_.max_message_events,
                             .hard_max_bytes = options_.max_revision_bytes};
    while (true) {
      const int64_t from = cursor_;
      WatchRead read =
          broker_.store().ReadWatch(name_, filter_, cursor_, budget, out_);
      if (read.compacted) {
        out_.Clear();
        if (!QueueSnapshot(v1::WatchSnapshot::COMPACTED)) return;
        break;
      }
      cursor_ = read.next;
      if (out_.events_size() > 0) {
        WriteOut();
        return;
      }
      // A filtered read may skip a bounded number of revisions without a
      // match; go on while it makes progress.
      if (cursor_ == from) return;
    }
  }
  out_ = std::move(parts_.front());
  parts_.pop_front();
  WriteOut();
}

void WatchReactor::WriteOut() {
  out_bytes_ = SerializeMessage(out_);
  out_ = v1::WatchResponse();  // only the bytes are kept while writing
  writing_ = true;
  ++messages_;
  StartWrite(&out_bytes_);
}

bool WatchReactor::QueueSnapshot(v1::WatchSnapshot::Reason reason) {
  absl::StatusOr<WatchStart> start =
      broker_.store().StartWatch(name_, type_, filter_, /*snapshot=*/true);
  if (!start.ok()) {
    end_ = ToGrpc(start.status());
    MaybeFinish();
    return false;
  }
  start->snapshot.set_reason(reason);
  for (v1::WatchResponse& part : SplitSnapshot(
           std::move(start->snapshot), options_.max_snapshot_part_bytes)) {
    parts_.push_back(std::move(part));
  }
  cursor_ = start->revision + 1;
  ++snapshots_;
  return true;
}

void WatchReactor::MaybeFinish() {
  if (finished_ || writing_) return;
  if (cancelled_) {
    finished_ = true;
    parts_.clear();
    Finish(grpc::Status::CANCELLED);
  } else if (end_.has_value()) {
    finished_ = true;
    parts_.clear();
    Finish(*end_);
  }
}

}  // namespace atomix::broker
