// AdminService: the Admin gRPC service (atomix/v1/admin.proto): operator
// calls: Backup, Status, ListSessions and ListPrimitives. Every call first
// asks the authenticator (auth.h) who is calling, and a caller it refuses
// gets its UNAUTHENTICATED status.
//
// Under an access policy (Broker::access()) Backup, ListSessions and
// ListPrimitives need the admin right on every name ("*"): they show or
// copy everything. Status needs no right: like the health service, it
// tells what the broker is and whether it serves, and names no primitive.
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

#include <memory>
#include <utility>
#include <string_view>

#include "atomix/v1/admin.grpc.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/server/auth.h"
#include "broker-sim/src/server/inspect.h"

namespace atomix::broker {

class AdminService final
    : public v1::Admin::WithRawCallbackMethod_Backup<
          v1::Admin::WithRawCallbackMethod_Status<
              v1::Admin::WithRawCallbackMethod_ListSessions<
                  v1::Admin::WithRawCallbackMethod_ListPrimitives<
                      v1::Admin::Service>>>> {
 public:
  // `authenticator` null: every call is anonymous.
  AdminService(Broker& broker, BrokerProcess process,
               std::shared_ptr<const Authenticator> authenticator = nullptr)
      : broker_(broker),
        process_(std::move(process)),
        authenticator_(authenticator != nullptr
                           ? std::move(authenticator)
                           : std::make_shared<AnonymousAuthenticator>()) {}

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
  // OK if the caller may make operators' call `call` ("Admin.Backup"):
  // UNAUTHENTICATED or PERMISSION_DENIED otherwise.
  grpc::Status AllowAdmin(const grpc::ServerContextBase& context, std::string_view call) const;

  Broker& broker_;
  const BrokerProcess process_;
  const std::shared_ptr<const Authenticator> authenticator_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_ADMIN_SERVICE_H_
