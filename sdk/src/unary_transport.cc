#include "sdk/src/unary_transport.h"

#include <algorithm>
#include <optional>
#include <stop_token>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "sdk/src/channel.h"
#include "sdk/src/endpoints.h"
#include "sdk/src/status_convert.h"

namespace atomix::internal {
namespace {

std::chrono::system_clock::time_point ToSystem(std::chrono::steady_clock::time_point deadline) {
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left > std::chrono::hours(24 * 365)) return std::chrono::system_clock::time_point::max();
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(left);
}

const char* StateName(grpc_connectivity_state s) {
  switch (s) {
    case GRPC_CHANNEL_IDLE:
      return "idle";
    case GRPC_CHANNEL_CONNECTING:
      return "connecting";
    case GRPC_CHANNEL_READY:
      return "ready";
    case GRPC_CHANNEL_TRANSIENT_FAILURE:
      return "failing to connect";
    case GRPC_CHANNEL_SHUTDOWN:
      return "shut down";
  }
  return "unknown";
}

struct CancelContext {
  grpc::ClientContext* context;
  void operator()() const { context->TryCancel(); }
};

}  // namespace

UnaryCore::UnaryCore(ClientOptions options)
    : ClientCore(options.callback_threads),
      options_(std::move(options)),
      watch_hub_(std::make_shared<WatchHub>(options_.endpoints, MakeCredentials(options_))) {
  for (const std::string& endpoint : options_.endpoints) {
    channels_.push_back(MakeChannel(endpoint, watch_hub_->credentials()));
    stubs_.push_back(v1::Broker::NewStub(channels_.back()));
  }
}

UnaryCore::~UnaryCore() { watch_hub_->Shutdown(); }

absl::StatusOr<v1::Response> UnaryCore::Call(v1::Request request, const CallOptions& options,
                                             bool idempotent) {
  if (options.cancel.stop_requested()) return absl::CancelledError("call cancelled");
  const auto deadline =
      EffectiveDeadline(options, std::chrono::nanoseconds(options_.default_call_timeout));
  request.set_id(next_id_.fetch_add(1, std::memory_order_relaxed));
  auto retry_delay = std::chrono::milliseconds(50);
  for (;;) {
    const size_t index = current_.load(std::memory_order_relaxed);
    grpc::ClientContext context;
    context.set_deadline(ToSystem(deadline));
    context.set_wait_for_ready(true);
    v1::Response response;
    grpc::Status status;
    {
      std::optional<std::stop_callback<CancelContext>> on_cancel;
      if (options.cancel.stop_possible())
        on_cancel.emplace(options.cancel, CancelContext{&context});
      status = stubs_[index]->Call(&context, request, &response);
    }
    if (status.ok()) return FromResponse(std::move(response));
    if (options.cancel.stop_requested()) return absl::CancelledError("call cancelled");

    const bool ready = channels_[index]->GetState(false) == GRPC_CHANNEL_READY;
    switch (status.error_code()) {
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        if (ready) {
          return absl::DeadlineExceededError(
              absl::StrCat("deadline exceeded waiting for broker ", options_.endpoints[index],
                           "; the operation may or may not have been applied"));
        }
        Rotate(index);
        return NotConnectedError(index);
      case grpc::StatusCode::UNAVAILABLE: {
        Rotate(index);
        const auto now = std::chrono::steady_clock::now();
        if (idempotent && now + retry_delay < deadline) {
          // Sleep in short slices so that cancellation stays prompt.
          const auto resume = now + retry_delay;
          while (std::chrono::steady_clock::now() < resume) {
            if (options.cancel.stop_requested()) return absl::CancelledError("call cancelled");
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
          retry_delay =
              std::min<std::chrono::milliseconds>(retry_delay * 2, std::chrono::seconds(1));
          continue;
        }
        return absl::UnavailableError(absl::StrCat(
            "connection to ", options_.endpoints[index], " lost (", status.error_message(), ")",
            idempotent ? "" : "; the operation may or may not have been applied"));
      }
      default: {
        absl::Status s = FromGrpcStatus(status);
        if (std::optional<int64_t> current = CurrentFromTrailers(context)) {
          s = WithCurrent(std::move(s), *current);
        }
        return s;
      }
    }
  }
}

void UnaryCore::Rotate(size_t index) {
  size_t expected = index;
  current_.compare_exchange_strong(expected, (index + 1) % stubs_.size(),
                                   std::memory_order_relaxed);
}

absl::Status UnaryCore::NotConnectedError(size_t index) const {
  return UnavailableError(
      {options_.endpoints[index]},
      absl::StrCat("not connected (", StateName(channels_[index]->GetState(false)), ")"));
}

absl::Status UnaryCore::WaitConnected(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    for (size_t i = 0; i < channels_.size(); ++i) {
      grpc_connectivity_state state = channels_[i]->GetState(/*try_to_connect=*/true);
      if (state == GRPC_CHANNEL_READY) {
        current_.store(i, std::memory_order_relaxed);
        return absl::OkStatus();
      }
      // Waiting on the channel drives gRPC's polling; with no call in flight
      // nothing else would, and the connection attempt would stall until the
      // backup poller runs.
      const auto slice = std::min(deadline, std::chrono::steady_clock::now() +
                                                std::chrono::milliseconds(100));
      if (channels_[i]->WaitForStateChange(state, ToSystem(slice)) &&
          channels_[i]->GetState(false) == GRPC_CHANNEL_READY) {
        current_.store(i, std::memory_order_relaxed);
        return absl::OkStatus();
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return UnavailableError(
          options_.endpoints,
          absl::StrCat("not connected (", StateName(channels_[0]->GetState(false)), ")"));
    }
  }
}

std::string UnaryCore::connected_endpoint() const {
  const size_t index = current_.load(std::memory_order_relaxed);
  if (channels_[index]->GetState(false) != GRPC_CHANNEL_READY) return {};
  return options_.endpoints[index];
}

}  // namespace atomix::internal
