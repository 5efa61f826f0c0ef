// Uses only the installed public headers: increments a Counter and does a
// compare-and-set on a Map entry against the broker at ATOMIX_BROKER.
#include <cstdio>

#include "atomix/atomix.h"

int main() {
  auto jobs = atomix::GetCounter("consumer-jobs");
  if (!jobs.ok()) {
    std::fprintf(stderr, "GetCounter: %s\n", jobs.status().ToString().c_str());
    return 1;
  }
  auto n = jobs->Increment();
  if (!n.ok() || n->value != 1) {
    std::fprintf(stderr, "Increment: %s\n", n.status().ToString().c_str());
    return 1;
  }

  auto config = atomix::GetMap<std::string, std::string>("consumer-config");
  if (!config.ok()) return 1;
  auto v1 = config->Put("mode", "blue");
  if (!v1.ok()) return 1;
  auto v2 = config->Update("mode", "green", atomix::IfVersion(*v1));
  if (!v2.ok()) {
    std::fprintf(stderr, "Update: %s\n", v2.status().ToString().c_str());
    return 1;
  }
  auto stale = config->Update("mode", "red", atomix::IfVersion(*v1));
  if (!absl::IsFailedPrecondition(stale.status())) {
    std::fprintf(stderr, "stale Update was not refused: %s\n", stale.status().ToString().c_str());
    return 1;
  }
  std::printf("counter=%lld map-version=%lld\n", static_cast<long long>(n->value),
              static_cast<long long>(*v2));
  return 0;
}
