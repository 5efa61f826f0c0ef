// CredentialAuthenticator: the Authenticator of --auth: who a call is, from
// its bearer token (authorization: Bearer <token>, checked against the
// --auth-tokens file) or its verified TLS client certificate.
//
//   auto auth = CredentialAuthenticator::Create(AuthMode::kToken, "tokens.txt");
//   options.authenticator = *auth;
//   ...on SIGHUP: (*auth)->Reload();   // an error keeps the old tokens
//
// Modes (--auth):
//   none   every call is the anonymous principal "" (credentials ignored);
//   token  a known bearer token is required; the principal is its name in
//          the tokens file;
//   cert   a client certificate is required (so is --tls-client-ca); the
//          principal is the certificate's subject common name (CN);
//   any    a bearer token if the call has one (it must be known), else the
//          client certificate's CN.
// A refused call gets UNAUTHENTICATED naming what was missing or wrong.
//
// Thread-safety: Authenticate runs on any number of gRPC threads at once,
// also while Reload swaps the token table.
#ifndef ATOMIX_BROKER_SERVER_CREDENTIAL_AUTH_H_
#define ATOMIX_BROKER_SERVER_CREDENTIAL_AUTH_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker-sim/src/server/auth.h"
#include "broker-sim/src/server/token_file.h"

namespace atomix::broker {

enum class AuthMode { kNone, kToken, kCert, kAny };

// "none", "token", "cert" or "any"; INVALID_ARGUMENT otherwise.
absl::StatusOr<AuthMode> ParseAuthMode(std::string_view name);
const char* AuthModeName(AuthMode mode);

class CredentialAuthenticator final : public Authenticator {
 public:
  // Reads `tokens_file` ("" : no tokens; then mode token is an error).
  static absl::StatusOr<std::shared_ptr<CredentialAuthenticator>> Create(
      AuthMode mode, std::string tokens_file);

  absl::StatusOr<std::string> Authenticate(
      const grpc::ServerContextBase& context) const override;

  // The principal for a call with `authorization` metadata (empty: none)
  // and a verified client certificate CN (empty: none). Authenticate's
  // decision, apart from gRPC.
  absl::StatusOr<std::string> Decide(std::string_view authorization,
                                     std::string_view cert_cn) const;

  // Re-reads the tokens file; on an error (naming the file and line) the
  // old tokens stay. Returns how many tokens are loaded.
  absl::StatusOr<size_t> Reload();

  AuthMode mode() const { return mode_; }

 private:
  CredentialAuthenticator(AuthMode mode, std::string tokens_file)
      : mode_(mode), tokens_file_(std::move(tokens_file)) {}

  const AuthMode mode_;
  const std::string tokens_file_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const TokenTable> tokens_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<TokenTable>();
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_CREDENTIAL_AUTH_H_
