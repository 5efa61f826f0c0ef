// Internal: what the watches of one client core share. Each core that
// serves watches owns one WatchHub and calls Shutdown() from its destructor.
//
//   - One gRPC channel per endpoint, made on first use with the arguments of
//     every transport (sdk/src/channel.h), and separate from the core's own
//     stream: every watch of the client is one HTTP/2 stream on it, so each
//     watch has its own flow control and a slow one delays no other.
//   - The endpoint to use: the first one, moving on to the next after a
//     watch call there failed before the broker answered.
//   - The live watches, and a count of their gRPC calls and retry timers in
//     flight, so that Shutdown() can close every watch channel and then wait
//     until no callback of theirs can run any more.
//
// Thread-safety: every method is safe from any thread. The hub never calls
// a watch while holding its own lock.
#ifndef ATOMIX_SDK_SRC_WATCH_HUB_H_
#define ATOMIX_SDK_SRC_WATCH_HUB_H_

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/security/credentials.h"

namespace atomix::internal {

class WatchStream;

class WatchHub {
 public:
  // `endpoints` must not be empty.
  WatchHub(std::vector<std::string> endpoints,
           std::shared_ptr<grpc::ChannelCredentials> credentials);

  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // The endpoint to use now.
  size_t current() const;
  const std::string& endpoint(size_t index) const { return endpoints_[index]; }
  // The client's credentials, shared by its stream and watch connections.
  const std::shared_ptr<grpc::ChannelCredentials>& credentials() const { return credentials_; }
  // The stub for endpoint `index`; lives as long as the hub.
  v1::Broker::Stub* stub(size_t index);
  // A watch call on endpoint `index` failed before the broker answered:
  // move on to the next endpoint (unless another watch already did).
  void Rotate(size_t index);

  // Adds a live watch. False after Shutdown().
  bool Register(const std::shared_ptr<WatchStream>& stream);

  // Counts a gRPC call or a timer that will call back later. False (and
  // nothing counted) after Shutdown().
  bool BeginOp();
  // The callback of a counted call or timer has finished.
  void EndOp();

  // Ends every watch (their channels close with CANCELLED "client closed"),
  // refuses new ones, and waits until no call or timer of theirs is left.
  // Idempotent.
  void Shutdown();

 private:
  const std::vector<std::string> endpoints_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  bool shutdown_ = false;
  size_t current_ = 0;
  int ops_ = 0;
  std::vector<std::unique_ptr<v1::Broker::Stub>> stubs_;  // By endpoint; made lazily.
  std::vector<std::weak_ptr<WatchStream>> streams_;
};

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_WATCH_HUB_H_
