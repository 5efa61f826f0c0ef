// BrokerService: the atomix.v1.Broker gRPC service over a Broker core.
//
// Stream is served by a StreamReactor per call, or refused with UNAVAILABLE
// naming the cause while the store cannot serve (Store::Health), so that
// clients move to another broker. Call runs the request and
// answers with the Response; a failed operation instead ends the call with
// the operation's status code and message, and Error.current, if any, goes
// into trailing metadata "atomix-current" as a decimal number. A Call whose
// request waits (a blocked lock acquire) ends when it is answered; if the
// client cancels first, the waiting request is withdrawn.
//
// Watch is served by a WatchReactor per call; the service's WatchHub wakes
// them when the store reports changed names (the server connects the store's
// change listener to the hub).
//
// The service owns the CompletionRouter that carries late answers to their
// stream or call, the FaultInjector, the WatchHub, and the CallRegistry of
// open Stream and Watch calls (ResetCalls cancels them all).
//
// All three methods take raw bytes and parse them here (raw_message.h): a
// message that does not parse ends the call with INVALID_ARGUMENT naming the
// method and the failure (on Stream, which message of the stream).
//
// A client (its connection, see PeerLimit) may hold at most
// WatchOptions::max_watches_per_client Watch calls at once; the next is
// refused with RESOURCE_EXHAUSTED naming --max-watches-per-client.
//
// Thread-safety: thread-safe; gRPC calls it from its own threads.
#ifndef ATOMIX_BROKER_SERVER_BROKER_SERVICE_H_
#define ATOMIX_BROKER_SERVER_BROKER_SERVICE_H_

#include "atomix/v1/broker.grpc.pb.h"
#include <atomic>
#include <memory>

#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/server/auth.h"
#include "broker-sim/src/server/call_registry.h"
#include "broker-sim/src/server/completion_router.h"
#include "broker-sim/src/server/faults.h"
#include "broker-sim/src/server/peer_limit.h"
#include "broker-sim/src/server/stream_reactor.h"
#include "broker-sim/src/server/watch_hub.h"
#include "broker-sim/src/server/watch_reactor.h"

namespace atomix::broker {

class BrokerService final
    : public v1::Broker::WithRawCallbackMethod_Stream<
          v1::Broker::WithRawCallbackMethod_Call<
              v1::Broker::WithRawCallbackMethod_Watch<v1::Broker::Service>>> {
 public:
  BrokerService(Broker& broker, StreamOptions options,
                FaultOptions faults = {}, WatchOptions watch = {},
                std::shared_ptr<const Authenticator> authenticator = nullptr);

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Stream(
      grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* context,
                                 const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* response) override;

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;

  CompletionRouter& router() { return router_; }
  // Who each call is; never null (anonymous when security is off).
  const Authenticator& authenticator() const { return *authenticator_; }
  WatchHub& hub() { return hub_; }

  // Cancels every open Stream and Watch call; returns how many.
  size_t ResetCalls() { return calls_.CancelAll(); }
  // Open Stream and Watch calls.
  size_t open_calls() const { return calls_.size(); }
  // Ends every open Watch call with UNAVAILABLE (broker shutdown) and waits
  // up to `timeout` for them to be done.
  void CloseWatches(absl::Duration timeout) {
    hub_.CloseAll();
    hub_.WaitUntilEmpty(timeout);
  }

 private:
  Broker& broker_;
  // Answers waiting to be written, over all streams (StreamOptions).
  std::atomic<size_t> stream_queued_bytes_{0};
  const StreamOptions options_;
  const WatchOptions watch_options_;
  const std::shared_ptr<const Authenticator> authenticator_;
  CompletionRouter router_;
  FaultInjector faults_;
  CallRegistry calls_;
  WatchHub hub_;
  PeerLimit watches_per_client_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_BROKER_SERVICE_H_
