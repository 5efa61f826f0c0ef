// Who a call is: bearer token or client certificate.
#include "broker-sim/src/server/credential_auth.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/server_context.h"

namespace atomix::broker {
namespace {

constexpr std::string_view kBearer = "Bearer ";

}  // namespace

absl::StatusOr<AuthMode> ParseAuthMode(std::string_view name) {
  if (name == "none") return AuthMode::kNone;
  if (name == "token") return AuthMode::kToken;
  if (name == "cert") return AuthMode::kCert;
  if (name == "any") return AuthMode::kAny;
  return absl::InvalidArgumentError(
      absl::StrCat("--auth ", absl::string_view(name.data(), name.size()),
                   ": expected none, token, cert or any"));
}

const char* AuthModeName(AuthMode mode) {
  switch (mode) {
    case AuthMode::kNone: return "none";
    case AuthMode::kToken: return "token";
    case AuthMode::kCert: return "cert";
    case AuthMode::kAny: return "any";
  }
  return "?";
}

absl::StatusOr<std::shared_ptr<CredentialAuthenticator>> CredentialAuthenticator::Create(
    AuthMode mode, std::string tokens_file) {
  if (mode == AuthMode::kToken && tokens_file.empty()) {
    return absl::InvalidArgumentError("--auth token needs --auth-tokens FILE");
  }
  std::shared_ptr<CredentialAuthenticator> auth(
      new CredentialAuthenticator(mode, std::move(tokens_file)));
  if (!auth->tokens_file_.empty()) {
    if (absl::StatusOr<size_t> loaded = auth->Reload(); !loaded.ok()) return loaded.status();
  }
  return auth;
}

absl::StatusOr<size_t> CredentialAuthenticator::Reload() {
  if (tokens_file_.empty()) return 0;
  absl::StatusOr<TokenTable> table = ReadTokenFile(tokens_file_);
  if (!table.ok()) return table.status();
  auto fresh = std::make_shared<const TokenTable>(*std::move(table));
  const size_t n = fresh->size();
  absl::MutexLock lock(&mu_);
  tokens_ = std::move(fresh);
  return n;
}

absl::StatusOr<std::string> CredentialAuthenticator::Decide(std::string_view authorization,
                                                            std::string_view cert_cn) const {
  if (mode_ == AuthMode::kNone) return std::string();
  const bool wants_token = mode_ == AuthMode::kToken || mode_ == AuthMode::kAny;
  if (wants_token && !authorization.empty()) {
    if (authorization.size() <= kBearer.size() ||
        !absl::EqualsIgnoreCase(absl::string_view(authorization.data(), kBearer.size()),
                                absl::string_view(kBearer.data(), kBearer.size()))) {
      return absl::UnauthenticatedError(
          "the authorization metadata is not \"Bearer <token>\"");
    }
    std::shared_ptr<const TokenTable> tokens;
    {
      absl::MutexLock lock(&mu_);
      tokens = tokens_;
    }
    if (const std::string* principal = tokens->Find(authorization.substr(kBearer.size()))) {
      return *principal;
    }
    return absl::UnauthenticatedError(
        absl::StrCat("unknown bearer token (not in --auth-tokens ", tokens_file_, ")"));
  }
  const bool wants_cert = mode_ == AuthMode::kCert || mode_ == AuthMode::kAny;
  if (wants_cert && !cert_cn.empty()) return std::string(cert_cn);
  switch (mode_) {
    case AuthMode::kToken:
      return absl::UnauthenticatedError(
          "no bearer token: this broker requires \"authorization: Bearer <token>\" metadata "
          "(--auth token)");
    case AuthMode::kCert:
      return absl::UnauthenticatedError(
          "no client certificate with a subject CN: this broker requires one (--auth cert)");
    default:
      return absl::UnauthenticatedError(
          "no bearer token and no client certificate: this broker requires one of them "
          "(--auth any)");
  }
}

absl::StatusOr<std::string> CredentialAuthenticator::Authenticate(
    const grpc::ServerContextBase& context) const {
  if (mode_ == AuthMode::kNone) return std::string();
  std::string_view authorization;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization = std::string_view(it->second.data(), it->second.size());
  }
  std::string cn;
  if (std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
      auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const grpc::string_ref& value : auth->FindPropertyValues("x509_common_name")) {
      cn.assign(value.data(), value.size());
      break;
    }
  }
  return Decide(authorization, cn);
}

}  // namespace atomix::broker
