#include "sdk/src/watch_hub.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "sdk/src/channel.h"
#include "sdk/src/watch_stream.h"

namespace atomix::internal {

WatchHub::WatchHub(std::vector<std::string> endpoints,
                   std::shared_ptr<grpc::ChannelCredentials> credentials)
    : endpoints_(std::move(endpoints)),
      credentials_(std::move(credentials)),
      stubs_(endpoints_.size()) {}

size_t WatchHub::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

v1::Broker::Stub* WatchHub::stub(size_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stubs_[index] == nullptr) {
    stubs_[index] = v1::Broker::NewStub(MakeChannel(endpoints_[index], credentials_));
  }
  return stubs_[index].get();
}

void WatchHub::Rotate(size_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_ == index) current_ = (index + 1) % endpoints_.size();
}

bool WatchHub::Register(const std::shared_ptr<WatchStream>& stream) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return false;
  streams_.erase(std::remove_if(streams_.begin(), streams_.end(),
                                [](const std::weak_ptr<WatchStream>& w) { return w.expired(); }),
                 streams_.end());
  streams_.push_back(stream);
  return true;
}

bool WatchHub::BeginOp() {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return false;
  ++ops_;
  return true;
}

void WatchHub::EndOp() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--ops_ == 0) idle_cv_.notify_all();
}

void WatchHub::Shutdown() {
  std::vector<std::weak_ptr<WatchStream>> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    streams.swap(streams_);
  }
  for (const std::weak_ptr<WatchStream>& w : streams) {
    if (std::shared_ptr<WatchStream> stream = w.lock()) {
      stream->Stop(absl::CancelledError("client closed"));
    }
  }
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return ops_ == 0; });
}

}  // namespace atomix::internal
