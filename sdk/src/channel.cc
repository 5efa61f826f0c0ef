#include "sdk/src/channel.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace atomix::internal {

namespace {

absl::Status ReadInto(const std::string& path, const char* what, std::string& pem) {
  if (!pem.empty() || path.empty()) return absl::OkStatus();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the ", what, " file ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  pem = text.str();
  if (pem.find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", what, " file ", path, " holds no PEM block"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ResolveSecurity(ClientOptions& options) {
  if (!options.tls.has_value()) {
    if (!options.token.empty()) {
      return absl::InvalidArgumentError(
          "a bearer token needs TLS (set ClientOptions::tls): gRPC sends tokens over TLS only");
    }
    return absl::OkStatus();
  }
  ClientOptions::Tls& tls = *options.tls;
  absl::Status s = ReadInto(tls.root_ca_file, "root CA", tls.root_ca_pem);
  if (s.ok()) s = ReadInto(tls.cert_file, "client certificate", tls.cert_pem);
  if (s.ok()) s = ReadInto(tls.key_file, "client key", tls.key_pem);
  if (!s.ok()) return s;
  if (tls.cert_pem.empty() != tls.key_pem.empty()) {
    return absl::InvalidArgumentError(tls.cert_pem.empty()
                                          ? "a client key needs its client certificate"
                                          : "a client certificate needs its key");
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ChannelCredentials> MakeCredentials(const ClientOptions& options) {
  if (!options.tls.has_value()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.tls->root_ca_pem;
  ssl.pem_cert_chain = options.tls->cert_pem;
  ssl.pem_private_key = options.tls->key_pem;
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(ssl);
  if (options.token.empty()) return credentials;
  return grpc::CompositeChannelCredentials(credentials,
                                           grpc::AccessTokenCredentials(options.token));
}

std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& endpoint, const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  grpc::ChannelArguments args;
  // gRPC's defaults (1 s first retry growing to 2 min, 20 s connect timeout)
  // would keep a client away from a restarted broker for minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Ping every 10 s and drop the connection when a ping is not answered in
  // 5 s. The stream is always open, so pings need no "without calls" permit;
  // the default cap of two pings between data frames keeps an idle client
  // within a stock server's ping policy.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // Each client gets its own connection, not one shared by every client of
  // the process that names the same endpoint.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(endpoint, credentials, args);
}

}  // namespace atomix::internal
