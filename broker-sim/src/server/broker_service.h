// BrokerService: the atomix.v1.Broker gRPC service over a Broker core.
//
// Stream is served by a StreamReactor per call. Call runs the request and
// answers with the Response; a failed operation instead ends the call with
// the operation's status code and message, and Error.current, if any, goes
// into trailing metadata "atomix-current" as a decimal number. A Call whose
// request waits (a blocked lock acquire) ends when it is answered; if the
// client cancels first, the waiting request is withdrawn.
//
// The service owns the CompletionRouter that carries late answers to their
// stream or call, and the FaultInjector.
//
// Thread-safety: thread-safe; gRPC calls it from its own threads.
#ifndef ATOMIX_BROKER_SERVER_BROKER_SERVICE_H_
#define ATOMIX_BROKER_SERVER_BROKER_SERVICE_H_

#include "atomix/v1/broker.grpc.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/server/completion_router.h"
#include "broker-sim/src/server/faults.h"
#include "broker-sim/src/server/stream_reactor.h"

namespace atomix::broker {

class BrokerService final : public v1::Broker::CallbackService {
 public:
  BrokerService(Broker& broker, StreamOptions options,
                FaultOptions faults = {});

  grpc::ServerBidiReactor<v1::RequestBatch, v1::ResponseBatch>* Stream(
      grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* context,
                                 const v1::Request* request,
                                 v1::Response* response) override;

  CompletionRouter& router() { return router_; }

 private:
  Broker& broker_;
  const StreamOptions options_;
  CompletionRouter router_;
  FaultInjector faults_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_BROKER_SERVICE_H_
