// The broker's security from its flags: TLS credentials (tls.h), the
// authenticator of --auth (credential_auth.h), what SIGHUP re-reads, and a
// warning for an exposed, unprotected listener.
//
//   absl::Status flags_ok = CheckSecurityOptions(security);        // exit 2
//   absl::StatusOr<BrokerSecurity> s = SetUpSecurity(security);    // exit 1
//   options.credentials = s->credentials(); options.authenticator = s->auth;
//   for (auto& r : s->Reloaders()) reloaders.push_back(r);
//
// Thread-safety: set up from one thread; the reloaders may then run on any
// one thread while gRPC serves.
#ifndef ATOMIX_BROKER_SERVER_SECURITY_SETUP_H_
#define ATOMIX_BROKER_SERVER_SECURITY_SETUP_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker-sim/src/server/credential_auth.h"
#include "broker-sim/src/server/tls.h"

namespace atomix::broker {

struct SecurityOptions {
  std::string listen;
  TlsFiles tls;
  std::string auth = "none";
  std::string auth_tokens;
};

// Flags that do not fit together (a key without a certificate, --auth cert
// without --tls-client-ca, --auth token without --auth-tokens...);
// INVALID_ARGUMENT naming them.
absl::Status CheckSecurityOptions(const SecurityOptions& options);

struct BrokerSecurity {
  std::shared_ptr<ServerTls> tls;  // null: plaintext
  std::shared_ptr<CredentialAuthenticator> auth;

  std::shared_ptr<grpc::ServerCredentials> credentials() const;
  // Re-read the certificate files and the tokens file; each logs what it
  // did, and keeps the old state (logging an error) if the new is bad.
  std::vector<std::function<void()>> Reloaders() const;
};

// Reads every file; INVALID_ARGUMENT naming the file and its problem.
absl::StatusOr<BrokerSecurity> SetUpSecurity(const SecurityOptions& options);

// True for 127.0.0.0/8, ::1, localhost and unix: addresses.
bool IsLoopbackListen(const std::string& listen);

// Logs one warning if `listen` is not loopback and the broker has no TLS or
// no authentication; logs the security in force otherwise.
void LogSecurity(const SecurityOptions& options, const BrokerSecurity& security);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_SECURITY_SETUP_H_
