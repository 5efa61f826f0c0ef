// Registry of open long-lived calls.
#include "broker-sim/src/server/call_registry.h"

namespace atomix::broker {

uint64_t CallRegistry::Register(grpc::ServerContextBase* context) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  calls_.emplace(id, context);
  return id;
}

void CallRegistry::Unregister(uint64_t id) {
  absl::MutexLock lock(&mu_);
  calls_.erase(id);
}

size_t CallRegistry::CancelAll() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, context] : calls_) context->TryCancel();
  return calls_.size();
}

size_t CallRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return calls_.size();
}

}  // namespace atomix::broker
