// Internal: the gRPC channel to one broker endpoint, with the arguments every
// transport shares: fast reconnection after a broker restart (backoff 50 ms
// to 1 s), keepalive pings so a dead peer is noticed while calls are in
// flight, and 64 MiB message limits.
//
// Thread-safety: pure function; the channel it returns is thread-safe.
#ifndef ATOMIX_SDK_SRC_CHANNEL_H_
#define ATOMIX_SDK_SRC_CHANNEL_H_

#include <memory>
#include <string>

#include "grpcpp/channel.h"

namespace atomix::internal {

inline constexpr int kMaxMessageBytes = 64 << 20;

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& endpoint);

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_CHANNEL_H_
