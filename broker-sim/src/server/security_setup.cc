// The broker's security from its flags.
#include "broker-sim/src/server/security_setup.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {

absl::Status CheckSecurityOptions(const SecurityOptions& o) {
  if (o.tls.cert.empty() != o.tls.key.empty()) {
    return absl::InvalidArgumentError(
        o.tls.cert.empty() ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key");
  }
  if (!o.tls.client_ca.empty() && o.tls.cert.empty()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  absl::StatusOr<AuthMode> mode = ParseAuthMode(o.auth);
  if (!mode.ok()) return mode.status();
  if (*mode == AuthMode::kToken && o.auth_tokens.empty()) {
    return absl::InvalidArgumentError("--auth token needs --auth-tokens FILE");
  }
  if ((*mode == AuthMode::kCert || *mode == AuthMode::kAny) && o.tls.client_ca.empty() &&
      (*mode == AuthMode::kCert || o.auth_tokens.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--auth ", o.auth, " needs --tls-client-ca (client certificates)",
        *mode == AuthMode::kAny ? " or --auth-tokens" : ""));
  }
  return absl::OkStatus();
}

absl::StatusOr<BrokerSecurity> SetUpSecurity(const SecurityOptions& o) {
  if (absl::Status ok = CheckSecurityOptions(o); !ok.ok()) return ok;
  BrokerSecurity s;
  const AuthMode mode = *ParseAuthMode(o.auth);
  if (!o.tls.cert.empty()) {
    // With tokens accepted, a client without a certificate may still
    // complete the handshake and show its token.
    TlsFiles files = o.tls;
    files.require_client_cert = mode != AuthMode::kAny && mode != AuthMode::kToken;
    absl::StatusOr<std::unique_ptr<ServerTls>> tls = ServerTls::Load(files);
    if (!tls.ok()) return tls.status();
    s.tls = *std::move(tls);
  }
  if (!o.auth_tokens.empty() && (mode == AuthMode::kNone || mode == AuthMode::kCert)) {
    spdlog::warn("--auth-tokens {} is not used with --auth {}", o.auth_tokens, o.auth);
  }
  absl::StatusOr<std::shared_ptr<CredentialAuthenticator>> auth =
      CredentialAuthenticator::Create(mode, o.auth_tokens);
  if (!auth.ok()) return auth.status();
  s.auth = *std::move(auth);
  return s;
}

std::shared_ptr<grpc::ServerCredentials> BrokerSecurity::credentials() const {
  return tls != nullptr ? tls->credentials() : nullptr;
}

std::vector<std::function<void()>> BrokerSecurity::Reloaders() const {
  std::vector<std::function<void()>> out;
  if (tls != nullptr) {
    out.push_back([tls = tls] {
      if (absl::Status s = tls->Reload(); !s.ok()) {
        spdlog::error("TLS reload failed, still serving the previous certificate: {}",
                      std::string(s.message()));
      } else {
        spdlog::info("TLS certificate reloaded: {}", tls->Describe());
      }
    });
  }
  if (auth != nullptr) {
    out.push_back([auth = auth] {
      absl::StatusOr<size_t> n = auth->Reload();
      if (!n.ok()) {
        spdlog::error("tokens reload failed, keeping the previous tokens: {}",
                      std::string(n.status().message()));
      } else if (*n > 0) {
        spdlog::info("bearer tokens reloaded: {} tokens", *n);
      }
    });
  }
  return out;
}

bool IsLoopbackListen(const std::string& listen) {
  if (absl::StartsWith(listen, "unix:") || absl::StartsWith(listen, "unix-abstract:")) {
    return true;
  }
  std::string host = listen;
  for (const char* scheme : {"dns:///", "ipv4:", "ipv6:"}) {
    if (absl::StartsWith(host, scheme)) host = host.substr(std::string(scheme).size());
  }
  if (absl::StartsWith(host, "[")) {
    const size_t end = host.find(']');
    host = host.substr(1, end == std::string::npos ? std::string::npos : end - 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  return absl::StartsWith(host, "127.") || host == "::1" || host == "localhost";
}

void LogSecurity(const SecurityOptions& o, const BrokerSecurity& s) {
  const bool authenticated = s.auth != nullptr && s.auth->mode() != AuthMode::kNone;
  if (!IsLoopbackListen(o.listen) && (s.tls == nullptr || !authenticated)) {
    std::vector<std::string> missing;
    if (s.tls == nullptr) missing.push_back("no TLS (--tls-cert, --tls-key)");
    if (!authenticated) missing.push_back("no authentication (--auth none)");
    spdlog::warn(
        "listening on {}, which is not loopback, with {}: anyone who reaches it can "
        "{} (docs/security.md)",
        o.listen, absl::StrJoin(missing, " and "),
        authenticated ? "read the traffic and tokens" : "call the broker");
  }
  if (s.tls != nullptr) {
    spdlog::info("TLS on: {}{}", s.tls->Describe(),
                 s.tls->mutual() ? absl::StrCat("; clients need a certificate from ",
                                                o.tls.client_ca)
                                 : std::string());
  }
  if (authenticated) spdlog::info("authentication: --auth {}", o.auth);
}

}  // namespace atomix::broker
