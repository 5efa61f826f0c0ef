// Routing of late answers to their streams and calls.
#include "broker-sim/src/server/completion_router.h"

#include <utility>

#include "absl/container/btree_map.h"
#include "absl/random/random.h"

namespace atomix::broker {
namespace {

uint64_t RandomBase() {
  absl::BitGen gen;  // seeded from the OS entropy source
  return uint64_t{absl::Uniform<uint32_t>(gen, 1, UINT32_MAX)} << 32;
}

}  // namespace

CompletionRouter::CompletionRouter() : CompletionRouter(0) {}

CompletionRouter::CompletionRouter(uint64_t base)
    : next_origin_((base == 0 ? RandomBase() : base) | 1) {}

uint64_t CompletionRouter::Register(ResponseSink* sink) {
  absl::MutexLock lock(&mu_);
  const uint64_t origin = next_origin_++;
  sinks_.emplace(origin, sink);
  return origin;
}

void CompletionRouter::Unregister(uint64_t origin) {
  absl::MutexLock lock(&mu_);
  sinks_.erase(origin);
}

void CompletionRouter::Route(std::vector<Completion>& completions) {
  if (completions.empty()) return;
  absl::btree_map<uint64_t, std::vector<v1::Response>> by_origin;
  for (Completion& completion : completions) {
    if (completion.origin == 0) continue;
    by_origin[completion.origin].push_back(std::move(completion.response));
  }
  completions.clear();
  absl::MutexLock lock(&mu_);
  for (auto& [origin, responses] : by_origin) {
    auto it = sinks_.find(origin);
    if (it != sinks_.end()) it->second->Deliver(std::move(responses));
  }
}

}  // namespace atomix::broker
