// BrokerService: the atomix.v1.Broker gRPC service over a Broker core.
//
// Stream is served by a StreamReactor per call. Call runs the request at once
// and answers with the Response; a failed operation instead ends the call
// with the operation's status code and message, and Error.current, if any,
// goes into trailing metadata "atomix-current" as a decimal number.
//
// Thread-safety: thread-safe; gRPC calls it from its own threads.
#ifndef ATOMIX_BROKER_SERVER_BROKER_SERVICE_H_
#define ATOMIX_BROKER_SERVER_BROKER_SERVICE_H_

#include "atomix/v1/broker.grpc.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/server/stream_reactor.h"

namespace atomix::broker {

class BrokerService final : public v1::Broker::CallbackService {
 public:
  BrokerService(Broker& broker, StreamOptions options);

  grpc::ServerBidiReactor<v1::RequestBatch, v1::ResponseBatch>* Stream(
      grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* context,
                                 const v1::Request* request,
                                 v1::Response* response) override;

 private:
  Broker& broker_;
  const StreamOptions options_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_BROKER_SERVICE_H_
