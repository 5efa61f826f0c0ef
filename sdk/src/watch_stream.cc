#include "sdk/src/watch_stream.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"
#include "sdk/src/client_core.h"
#include "sdk/src/status_convert.h"
#include "sdk/src/watch_wire.h"

namespace atomix::internal {

// One Broker.Watch call. Owned by itself (`self_`, from StartCall until
// OnDone) and by the stream while it is the current call, so the stream can
// cancel it at any time without racing with OnDone.
class WatchStream::Attempt final : public grpc::ClientReadReactor<v1::WatchResponse> {
 public:
  Attempt(std::shared_ptr<WatchStream> stream, uint64_t seq, size_t endpoint)
      : stream_(std::move(stream)), seq_(seq), endpoint_(endpoint) {}

  void Begin(v1::Broker::Stub* stub, std::shared_ptr<Attempt> self) {
    self_ = std::move(self);
    stub->async()->Watch(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (ok) stream_->OnRead(this);
  }

  void OnDone(const grpc::Status& status) override {
    std::shared_ptr<WatchStream> stream = std::move(stream_);
    std::shared_ptr<WatchHub> hub = stream->hub_;
    stream->OnAttemptDone(this, status);
    stream.reset();
    self_.reset();  // May delete this.
    hub->EndOp();
  }

  grpc::ClientContext& context() { return context_; }
  v1::WatchRequest& request() { return request_; }
  v1::WatchResponse& response() { return response_; }
  uint64_t seq() const { return seq_; }
  size_t endpoint() const { return endpoint_; }

 private:
  std::shared_ptr<WatchStream> stream_;
  std::shared_ptr<Attempt> self_;
  const uint64_t seq_;
  const size_t endpoint_;
  grpc::ClientContext context_;
  v1::WatchRequest request_;
  v1::WatchResponse response_;
};

WatchStream::WatchStream(std::shared_ptr<WatchHub> hub, WatchTarget target,
                         const WatchOptions& options, std::shared_ptr<WatchOutput> output)
    : hub_(std::move(hub)),
      target_(std::move(target)),
      start_version_(options.replay ? std::nullopt : options.start_version),
      output_(std::move(output)),
      backoff_(std::chrono::milliseconds(50), std::chrono::milliseconds(1000)),
      replay_pending_(options.replay) {}

WatchStream::~WatchStream() = default;

absl::Status WatchStream::Start(Clock::time_point deadline, const std::stop_token& cancel) {
  // Closing or dropping the app's channel ends the watch.
  std::weak_ptr<WatchStream> weak = weak_from_this();
  output_->OnClose([weak] {
    if (auto self = weak.lock()) self->Stop(absl::OkStatus());
  });
  StartAttempt();

  std::stop_callback wake(cancel, [this] {
    std::lock_guard<std::mutex> lock(mu_);
    started_cv_.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu_);
  started_cv_.wait_until(lock, deadline,
                         [&] { return header_seen_ || stopped_ || cancel.stop_requested(); });
  if (header_seen_) return absl::OkStatus();
  if (stopped_) return stop_status_.ok() ? absl::CancelledError("watch closed") : stop_status_;
  absl::Status gave_up = GiveUpStatusLocked(cancel.stop_requested());
  lock.unlock();
  Stop(gave_up);
  return gave_up;
}

absl::Status WatchStream::GiveUpStatusLocked(bool cancelled) const {
  if (cancelled) return absl::CancelledError("watch cancelled");
  const std::string& endpoint = hub_->endpoint(hub_->current());
  const std::string kind(target_.kind.name);
  if (!last_error_.empty()) {
    return absl::UnavailableError(absl::StrCat("cannot watch ", kind, " \"",
                                               target_.name, "\" on broker ", endpoint, ": ",
                                               last_error_));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("deadline exceeded waiting for broker ", endpoint, " to accept the watch of ",
                   kind, " \"", target_.name, "\""));
}

void WatchStream::Stop(absl::Status status) {
  std::shared_ptr<Attempt> attempt;
  std::shared_ptr<grpc::Alarm> timer;
  bool unhold = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stop_status_ = status;
    attempt = attempt_;
    unhold = std::exchange(paused_, false);
    timer = timer_;
    started_cv_.notify_all();
  }
  if (attempt != nullptr) {
    attempt->context().TryCancel();
    if (unhold) attempt->RemoveHold();
  }
  if (timer != nullptr) timer->Cancel();
  output_->Close(std::move(status));
}

v1::WatchRequest WatchStream::RequestLocked() const {
  v1::WatchRequest request;
  request.set_type(static_cast<v1::PrimitiveType>(target_.kind.wire_type));
  request.set_name(target_.name);
  if (target_.key) request.set_key(*target_.key);
  request.set_prefix(target_.prefix);
  if (replay_pending_) {
    request.set_replay(true);
  } else if (position_known_) {
    request.set_start_revision(next_start_);
    request.set_broker_id(resume_broker_);
  } else if (start_version_) {
    request.set_start_revision(*start_version_);
  }
  return request;
}

void WatchStream::StartAttempt() {
  std::shared_ptr<Attempt> attempt;
  size_t endpoint = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    if (!hub_->BeginOp()) {
      // The client is shutting down; its Shutdown() stops us.
      return;
    }
    endpoint = hub_->current();
    attempt = std::make_shared<Attempt>(shared_from_this(), ++attempt_seq_, endpoint);
    attempt->request() = RequestLocked();
    attempt_ = attempt;
    attempt_header_ = false;
    attempt_broker_.clear();
    partial_.reset();
  }
  attempt->Begin(hub_->stub(endpoint), attempt);
}

void WatchStream::OnRead(Attempt* attempt) {
  v1::WatchResponse& message = attempt->response();
  absl::Status status;
  std::optional<RawSnapshot> snapshot;
  std::vector<RawWatchEvent> events;
  std::shared_ptr<Attempt> current;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || attempt_.get() != attempt) return;  // Cancelled: OnDone follows.
    current = attempt_;
    if (message.has_header()) {
      if (attempt_header_) {
        status = absl::InternalError("broker sent a second watch header on one stream");
      } else {
        attempt_header_ = true;
        attempt_broker_ = message.header().broker_id();
        backoff_.Reset();
        last_error_.clear();
        if (!position_known_ && !replay_pending_) {
          // Nothing delivered yet: start after the header's revision, or
          // where the caller asked.
          position_known_ = true;
          next_start_ = start_version_ ? *start_version_ : message.header().revision() + 1;
          resume_broker_ = attempt_broker_;
        }
        if (!header_seen_) {
          header_seen_ = true;
          started_cv_.notify_all();
        }
      }
    } else if (!attempt_header_) {
      status = absl::InternalError("broker sent watch data before the watch header");
    }
    if (status.ok() && message.has_snapshot()) {
      absl::StatusOr<bool> complete = AddSnapshotPart(*message.mutable_snapshot(), partial_);
      if (!complete.ok()) {
        status = complete.status();
      } else if (*complete) {
        snapshot = std::move(partial_);
        partial_.reset();
        position_known_ = true;
        next_start_ = snapshot->revision + 1;
        resume_broker_ = attempt_broker_;
        if (snapshot->replay) replay_pending_ = false;
      }
    }
    if (status.ok() && message.events_size() > 0) {
      if (partial_.has_value() || replay_pending_) {
        status = absl::InternalError("broker sent watch events inside a snapshot");
      } else {
        int64_t last = 0;
        for (v1::WatchEvent& wire : *message.mutable_events()) {
          if (wire.revision() < last) {
            status = absl::InternalError(absl::StrCat("broker sent watch event revision ",
                                                      wire.revision(), " after ", last));
            break;
          }
          last = wire.revision();
          if (wire.revision() < next_start_) continue;  // Delivered before.
          absl::StatusOr<RawWatchEvent> event = EventFromWire(wire);
          if (!event.ok()) {
            status = event.status();
            break;
          }
          events.push_back(*std::move(event));
        }
        if (status.ok() && !events.empty()) {
          next_start_ = events.back().revision + 1;
          resume_broker_ = attempt_broker_;
        }
      }
    }
    message.Clear();
  }
  if (status.ok() && snapshot.has_value()) status = output_->Snapshot(*std::move(snapshot));
  if (status.ok() && !events.empty()) status = output_->Events(std::move(events));
  if (!status.ok()) {
    Stop(std::move(status));
    return;
  }
  ReadNextOrPause(current, current->seq());
}

void WatchStream::ReadNextOrPause(const std::shared_ptr<Attempt>& attempt, uint64_t seq) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || attempt_ != attempt) return;
    paused_ = true;
    attempt->AddHold();
  }
  std::weak_ptr<WatchStream> weak = weak_from_this();
  if (output_->RoomOrNotify([weak, seq] {
        if (auto self = weak.lock()) self->Resume(seq);
      })) {
    Resume(seq);
  }
}

void WatchStream::Resume(uint64_t seq) {
  std::shared_ptr<Attempt> attempt;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || !paused_ || attempt_ == nullptr || attempt_seq_ != seq) return;
    paused_ = false;
    attempt = attempt_;
  }
  attempt->StartRead(&attempt->response());
  attempt->RemoveHold();
}

void WatchStream::OnAttemptDone(Attempt* attempt, const grpc::Status& status) {
  absl::Status ends;
  std::chrono::milliseconds delay{0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (attempt_.get() != attempt) return;
    attempt_.reset();
    paused_ = false;
    partial_.reset();
    if (stopped_) return;
    if (EndsWatch(status.error_code())) {
      ends = FromGrpcStatus(status);
    } else {
      if (!attempt_header_) hub_->Rotate(attempt->endpoint());
      last_error_ =
          status.ok() ? std::string("the broker ended the watch stream") : status.error_message();
      if (!hub_->BeginOp()) return;  // The client is shutting down.
      delay = backoff_.Next();
    }
  }
  if (!ends.ok()) {
    Stop(std::move(ends));
    return;
  }
  // The timer keeps the stream alive until it fires or is cancelled; the
  // callback lets go of it then (the alarm itself lives on in timer_).
  auto timer = std::make_shared<grpc::Alarm>();
  timer->Set(std::chrono::system_clock::now() + delay,
             [self = shared_from_this()](bool fired) mutable {
               std::shared_ptr<WatchStream> stream = std::move(self);
               std::shared_ptr<WatchHub> hub = stream->hub_;
               stream->OnTimer(fired);
               stream.reset();
               hub->EndOp();
             });
  bool stopped = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped = stopped_;
    timer_ = timer;
  }
  // A Stop() that ran before the timer was published could not cancel it.
  if (stopped) timer->Cancel();
}

void WatchStream::OnTimer(bool fired) {
  (void)fired;  // A cancelled timer finds the stream stopped.
  StartAttempt();
}

absl::Status StartWatch(const std::shared_ptr<ClientCore>& core, WatchTarget target,
                        const WatchOptions& options, std::shared_ptr<WatchOutput> output) {
  if (core == nullptr) return absl::InvalidArgumentError("atomix: primitive has no client");
  std::shared_ptr<WatchHub> hub = core->watch_hub();
  if (hub == nullptr) {
    return absl::UnimplementedError("this client's transport does not serve watches");
  }
  if (options.cancel.stop_requested()) return absl::CancelledError("watch cancelled");
  const auto deadline = EffectiveDeadline(
      options,
      std::chrono::duration_cast<std::chrono::nanoseconds>(core->options().default_call_timeout));
  auto stream = std::make_shared<WatchStream>(hub, std::move(target), options, std::move(output));
  if (!hub->Register(stream)) return absl::CancelledError("client closed");
  return stream->Start(deadline, options.cancel);
}

}  // namespace atomix::internal
