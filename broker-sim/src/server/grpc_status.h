// The one conversion from absl::Status to grpc::Status in the server: the
// codes correspond one to one, the message is kept.
//
// Thread-safety: a pure function.
#ifndef ATOMIX_BROKER_SERVER_GRPC_STATUS_H_
#define ATOMIX_BROKER_SERVER_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace atomix::broker {

inline grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_GRPC_STATUS_H_
