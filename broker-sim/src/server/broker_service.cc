// atomix.v1.Broker service.
#include "broker-sim/src/server/broker_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "broker-sim/src/server/grpc_status.h"
#include "broker-sim/src/server/raw_message.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

grpc::StatusCode ToGrpcCode(int32_t code) {
  if (code < grpc::StatusCode::OK || code > grpc::StatusCode::UNAUTHENTICATED) {
    return grpc::StatusCode::UNKNOWN;
  }
  return static_cast<grpc::StatusCode>(code);
}

// One unary Call. Owns itself; deleted in OnDone. Registered with the router
// while it lives, so a request that waits can be answered by another thread.
class UnaryCall final : public grpc::ServerUnaryReactor, public ResponseSink {
 public:
  UnaryCall(Broker& broker, CompletionRouter& router, FaultInjector& faults,
            grpc::CallbackServerContext* context, grpc::ByteBuffer* response,
            std::string principal)
      : broker_(broker),
        principal_(std::move(principal)),
        router_(router),
        faults_(faults),
        context_(context),
        response_(response) {
    origin_ = router_.Register(this);
  }

  void Start(const v1::Request& request) {
    std::vector<Completion> completions;
    v1::Response response;
    const bool answered =
        broker_.Execute(request, origin_, principal_, response, completions);
    router_.Route(completions);
    if (spdlog::should_log(spdlog::level::trace)) {
      spdlog::trace("call from {}: request {} on \"{}\" at revision {}{}",
                    context_->peer(), request.id(), request.name(),
                    response.revision(),
                    answered ? (response.has_error() ? " failed" : "")
                             : " waits");
    }
    if (answered) Answer(std::move(response));
  }

  void Deliver(std::vector<v1::Response> responses) override {
    if (!responses.empty()) Answer(std::move(responses.front()));
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
    Finish(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    router_.Unregister(origin_);
    broker_.Cancel(origin_);
    delete this;
  }

 private:
  ~UnaryCall() override = default;

  void Answer(v1::Response response) {
    faults_.Delay();
    const bool drop = faults_.Drop();
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
    if (drop) {
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "response dropped by fault injection"));
      return;
    }
    if (!response.has_error()) {
      *response_ = SerializeMessage(response);
      Finish(grpc::Status::OK);
      return;
    }
    const v1::Error& error = response.error();
    if (error.has_current()) {
      context_->AddTrailingMetadata("atomix-current",
                                    std::to_string(error.current()));
    }
    Finish(grpc::Status(ToGrpcCode(error.code()), error.message()));
  }

  Broker& broker_;
  const std::string principal_;
  CompletionRouter& router_;
  FaultInjector& faults_;
  grpc::CallbackServerContext* const context_;
  grpc::ByteBuffer* const response_;
  uint64_t origin_ = 0;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// A Stream refused at once with `status`: the broker cannot serve (its store
// says why, so the client moves on to another broker), or the caller did
// not authenticate.
class RefusedStream final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// A call of another kind refused at once with `status`.
template <typename Reactor>
class Refused final : public Reactor {
 public:
  explicit Refused(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

BrokerService::BrokerService(Broker& broker, StreamOptions options,
                             FaultOptions faults, WatchOptions watch,
                             std::shared_ptr<const Authenticator> authenticator)
    : broker_(broker),
      options_([&] {
        options.total_queued_bytes = &stream_queued_bytes_;
        return options;
      }()),
      watch_options_(watch),
      authenticator_(authenticator != nullptr
                         ? std::move(authenticator)
                         : std::make_shared<AnonymousAuthenticator>()),
      faults_(faults),
      watches_per_client_(watch.max_watches_per_client,
                          "--max-watches-per-client", "watches") {}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
BrokerService::Stream(grpc::CallbackServerContext* context) {
  absl::StatusOr<std::string> principal = authenticator_->Authenticate(*context);
  if (!principal.ok()) return new RefusedStream(ToGrpc(principal.status()));
  if (absl::Status health = broker_.store().Health(); !health.ok()) {
    return new RefusedStream(
        grpc::Status(grpc::StatusCode::UNAVAILABLE,
                     absl::StrCat("this broker cannot serve: ", health.message())));
  }
  return new StreamReactor(broker_, router_, faults_, calls_, context,
                           options_, std::move(*principal));
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* BrokerService::Watch(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw) {
  using RefusedWatch = Refused<grpc::ServerWriteReactor<grpc::ByteBuffer>>;
  absl::StatusOr<std::string> principal = authenticator_->Authenticate(*context);
  if (!principal.ok()) return new RefusedWatch(ToGrpc(principal.status()));
  v1::WatchRequest request;
  if (grpc::Status parsed = ParseMessage(*raw, "atomix.v1.Broker/Watch",
                                         "the request", request, context);
      !parsed.ok()) {
    return new RefusedWatch(parsed);
  }
  if (absl::Status allowed = broker_.AuthorizeWatch(*principal, request);
      !allowed.ok()) {
    return new RefusedWatch(ToGrpc(allowed));
  }
  std::string peer = context->peer();
  if (absl::Status room = watches_per_client_.Acquire(peer); !room.ok()) {
    return new RefusedWatch(ToGrpc(room));
  }
  PeerLimit* limit = &watches_per_client_;
  return new WatchReactor(broker_, hub_, calls_, context, request,
                          watch_options_,
                          [limit, peer = std::move(peer)] { limit->Release(peer); });
}

grpc::ServerUnaryReactor* BrokerService::Call(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw,
    grpc::ByteBuffer* response) {
  absl::StatusOr<std::string> principal = authenticator_->Authenticate(*context);
  if (!principal.ok()) {
    return new Refused<grpc::ServerUnaryReactor>(ToGrpc(principal.status()));
  }
  v1::Request request;
  if (grpc::Status parsed =
          ParseMessage(*raw, "atomix.v1.Broker/Call", "the request", request,
                       context);
      !parsed.ok()) {
    return new Refused<grpc::ServerUnaryReactor>(parsed);
  }
  auto* call = new UnaryCall(broker_, router_, faults_, context, response,
                             std::move(*principal));
  call->Start(request);
  return call;
}

}  // namespace atomix::broker
