// Internal: the gRPC channel to one broker endpoint, with the arguments every
// transport shares: fast reconnection after a broker restart (backoff 50 ms
// to 1 s), keepalive pings so a dead peer is noticed while calls are in
// flight, and 64 MiB message limits; and the credentials every connection
// of one client shares (ClientOptions::tls and ::token).
//
// Thread-safety: pure functions; what they return is thread-safe.
#ifndef ATOMIX_SDK_SRC_CHANNEL_H_
#define ATOMIX_SDK_SRC_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "atomix/client.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"

namespace atomix::internal {

inline constexpr int kMaxMessageBytes = 64 << 20;

std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& endpoint, const std::shared_ptr<grpc::ChannelCredentials>& credentials);

// Reads the files that options.tls names into its *_pem fields (a field
// already set wins over its file); INVALID_ARGUMENT naming a file that
// cannot be read, a certificate without its key, or a token without TLS.
absl::Status ResolveSecurity(ClientOptions& options);

// TLS credentials from options.tls's PEM texts, with the bearer token as
// call credentials; plaintext without options.tls (the token is not sent
// then: gRPC sends tokens over TLS only).
std::shared_ptr<grpc::ChannelCredentials> MakeCredentials(const ClientOptions& options);

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_CHANNEL_H_
