// Authenticator: who is calling. Every Broker and Admin call asks it once,
// when the call starts, for the principal the call acts as; the access
// policy (core/) then decides what that principal may do.
//
//   absl::StatusOr<std::string> principal = authenticator.Authenticate(*context);
//   if (!principal.ok()) ...finish the call with principal.status()...
//
// The principal "" is the anonymous one: with security off every call is
// anonymous and may do everything. A failure is UNAUTHENTICATED and names
// what was missing or wrong (no token, an unknown token, no client
// certificate...).
//
// Thread-safety: implementations are safe to call from any number of
// threads at once, also while they reload their files.
#ifndef ATOMIX_BROKER_SERVER_AUTH_H_
#define ATOMIX_BROKER_SERVER_AUTH_H_

#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace atomix::broker {

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // The principal of the call behind `context`, or UNAUTHENTICATED.
  virtual absl::StatusOr<std::string> Authenticate(
      const grpc::ServerContextBase& context) const = 0;
};

// Security off: every call is the anonymous principal "".
class AnonymousAuthenticator final : public Authenticator {
 public:
  absl::StatusOr<std::string> Authenticate(
      const grpc::ServerContextBase&) const override {
    return std::string();
  }
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_AUTH_H_
