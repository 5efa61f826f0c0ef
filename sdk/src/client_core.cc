// NewClientCore: picks the transport and fills in defaults.
#include "sdk/src/client_core.h"

#include <algorithm>
#include <utility>

#include "sdk/src/endpoints.h"
#include "sdk/src/executor.h"
#include "sdk/src/stream_transport.h"
#include "sdk/src/unary_transport.h"

namespace atomix::internal {

ClientCore::ClientCore(int callback_threads)
    : executor_(std::make_shared<Executor>(callback_threads)) {}

ClientCore::~ClientCore() { executor_->Shutdown(); }

ResponseState ClientCore::CallAsync(v1::Request request, const CallOptions& options,
                                    CallKind kind) {
  auto state = std::make_shared<ValueState<v1::Response>>(executor_);
  state->SetValue(kind.blocking
                      ? CallBlocking(std::move(request), options, std::move(kind.give_back))
                      : Call(std::move(request), options, kind.idempotent));
  return state;
}

absl::StatusOr<v1::Response> ClientCore::Call(v1::Request request, const CallOptions& options,
                                              bool idempotent) {
  return Await(CallAsync(std::move(request), options, CallKind{.idempotent = idempotent}));
}

absl::StatusOr<v1::Response> Await(const ResponseState& call) {
  call->signal().Wait();
  return call->Take();
}

std::shared_ptr<ClientCore> NewClientCore(ClientOptions options) {
  options.endpoints = ResolveEndpoints(std::move(options.endpoints));
  options.max_batch_requests = std::max(1, options.max_batch_requests);
  options.callback_threads = std::clamp(options.callback_threads, 1, 64);
  options.session_ttl = std::max<std::chrono::milliseconds>(options.session_ttl,
                                                            std::chrono::seconds(1));
  if (options.transport == ClientOptions::Transport::kUnary) {
    return std::make_shared<UnaryCore>(std::move(options));
  }
  return std::make_shared<StreamCore>(std::move(options));
}

}  // namespace atomix::internal
