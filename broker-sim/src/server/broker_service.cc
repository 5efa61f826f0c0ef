// atomix.v1.Broker service.
#include "broker-sim/src/server/broker_service.h"

#include <string>

#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

grpc::StatusCode ToGrpcCode(int32_t code) {
  if (code < grpc::StatusCode::OK || code > grpc::StatusCode::UNAUTHENTICATED) {
    return grpc::StatusCode::UNKNOWN;
  }
  return static_cast<grpc::StatusCode>(code);
}

}  // namespace

BrokerService::BrokerService(Broker& broker, StreamOptions options)
    : broker_(broker), options_(options) {}

grpc::ServerBidiReactor<v1::RequestBatch, v1::ResponseBatch>*
BrokerService::Stream(grpc::CallbackServerContext* context) {
  return new StreamReactor(broker_, context, options_);
}

grpc::ServerUnaryReactor* BrokerService::Call(
    grpc::CallbackServerContext* context, const v1::Request* request,
    v1::Response* response) {
  *response = broker_.Execute(*request);
  if (spdlog::should_log(spdlog::level::trace)) {
    spdlog::trace("call from {}: request {} on \"{}\" at revision {}{}",
                  context->peer(), request->id(), request->name(),
                  response->revision(),
                  response->has_error() ? " failed" : "");
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!response->has_error()) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  const v1::Error& error = response->error();
  if (error.has_current()) {
    context->AddTrailingMetadata("atomix-current",
                                 std::to_string(error.current()));
  }
  reactor->Finish(grpc::Status(ToGrpcCode(error.code()), error.message()));
  return reactor;
}

}  // namespace atomix::broker
