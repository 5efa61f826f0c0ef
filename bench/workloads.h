// Workloads and the measuring loop of atomix-bench.
//
// Thread-safety: a Workload's Op() is called from many caller threads at
// once; Run() owns those threads.
#ifndef ATOMIX_BENCH_WORKLOADS_H_
#define ATOMIX_BENCH_WORKLOADS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/client.h"

namespace atomix::bench {

class Workload {
 public:
  virtual ~Workload() = default;
  // One operation by caller `caller`, its `i`th.
  virtual absl::Status Op(int caller, int64_t i) = 0;
};

std::vector<std::string> WorkloadNames();
// `callers` is how many threads will call Op(); caller c uses clients[c %
// clients.size()]. Workloads that need one session per caller open that
// many clients (spread over the same endpoints).
absl::StatusOr<std::unique_ptr<Workload>> MakeWorkload(const std::string& name,
                                                       const std::vector<Client>& clients,
                                                       int callers);

struct Result {
  int64_t ops = 0;
  int64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  double ops_per_sec = 0;
  double p50_us = 0;
  double p99_us = 0;
};

Result Run(Workload& w, int callers, double warmup_s, double duration_s);

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_WORKLOADS_H_
