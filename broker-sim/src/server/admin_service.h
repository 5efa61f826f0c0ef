// AdminService: the Admin gRPC service (atomix/v1/admin.proto): operator
// calls: Backup, Status, ListSessions and ListPrimitives.
//
// Every method takes raw bytes and parses them itself (raw_message.h): a
// request that does not parse is answered with INVALID_ARGUMENT naming the
// method and the failure. Backup writes its chunks one at a time from a
// write reactor that owns the encoded snapshot.
//
// Thread-safety: gRPC calls its handlers from any number of threads; each
// handler only reads the broker through its thread-safe store.
#ifndef ATOMIX_BROKER_SERVER_ADMIN_SERVICE_H_
#define ATOMIX_BROKER_SERVER_ADMIN_SERVICE_H_

#include "atomix/v1/admin.grpc.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/server/inspect.h"

namespace atomix::broker {

class AdminService final
    : public v1::Admin::WithRawCallbackMethod_Backup<
          v1::Admin::WithRawCallbackMethod_Status<
              v1::Admin::WithRawCallbackMethod_ListSessions<
                  v1::Admin::WithRawCallbackMethod_ListPrimitives<
                      v1::Admin::Service>>>> {
 public:
  AdminService(Broker& broker, BrokerProcess process)
      : broker_(broker), process_(std::move(process)) {}

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Backup(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListSessions(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListPrimitives(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;

 private:
  Broker& broker_;
  const BrokerProcess process_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_ADMIN_SERVICE_H_
