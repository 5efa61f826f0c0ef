// AdminService: the Admin gRPC service (atomix/v1/admin.proto): operator
// calls: Backup and Status.
//
// Thread-safety: gRPC calls its handlers from any number of threads; each
// handler only reads the broker through its thread-safe store.
#ifndef ATOMIX_BROKER_SERVER_ADMIN_SERVICE_H_
#define ATOMIX_BROKER_SERVER_ADMIN_SERVICE_H_

#include "atomix/v1/admin.grpc.pb.h"
#include "broker-sim/src/core/broker.h"

namespace atomix::broker {

class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(Broker& broker) : broker_(broker) {}

  grpc::Status Backup(grpc::ServerContext* context, const v1::BackupRequest* request,
                      grpc::ServerWriter<v1::BackupChunk>* writer) override;
  grpc::Status Status(grpc::ServerContext* context, const v1::StatusRequest* request,
                      v1::StatusResponse* response) override;

 private:
  Broker& broker_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_ADMIN_SERVICE_H_
