// Workloads and the measuring loops of atomix-bench.
//
// A workload's operations run either from `callers` blocking threads (Run),
// or from one thread that keeps `inflight` asynchronous operations in flight
// (RunAsync), collecting each in the order it was started.
//
// Thread-safety: a Workload's Op() (and an AsyncWorkload's Start()) are
// called from many threads at once; Run() and RunAsync() own those threads.
#ifndef ATOMIX_BENCH_WORKLOADS_H_
#define ATOMIX_BENCH_WORKLOADS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/client.h"
#include "atomix/future.h"

namespace atomix::bench {

class Workload {
 public:
  virtual ~Workload() = default;
  // One operation by caller `caller`, its `i`th.
  virtual absl::Status Op(int caller, int64_t i) = 0;
  // Retries that a conditional workload needed (value-cas).
  virtual int64_t conflicts() const { return 0; }
};

// A workload with an asynchronous form (what --async runs). Its Op() waits
// for Start(), as the SDK's own blocking calls do.
class AsyncWorkload : public Workload {
 public:
  absl::Status Op(int caller, int64_t i) override { return Start(caller, i).get(); }
  // The same operation, without waiting.
  virtual Future<void> Start(int caller, int64_t i) = 0;
};

struct WorkloadOptions {
  int callers = 1;
  // Bytes per map value.
  int value_bytes = 100;
  // Keys of the map workloads, shared by all callers.
  int keys = 1000;
};

std::vector<std::string> WorkloadNames();
// Caller c uses clients[c % clients.size()]. Workloads that need one
// session per caller open that many clients (over the same endpoints).
absl::StatusOr<std::unique_ptr<Workload>> MakeWorkload(const std::string& name,
                                                       const std::vector<Client>& clients,
                                                       const WorkloadOptions& options);

struct Result {
  int64_t ops = 0;
  int64_t errors = 0;
  int64_t conflicts = 0;
  std::string first_error;
  double seconds = 0;
  double ops_per_sec = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
};

// Sets r's percentiles and maximum from latencies in nanoseconds.
void FillLatencies(std::vector<int64_t>& latencies_ns, Result& r);

Result Run(Workload& w, int callers, double warmup_s, double duration_s);
// One thread keeps `inflight` operations started; an operation's latency
// runs from its start until that thread collected it, oldest first.
Result RunAsync(AsyncWorkload& w, int inflight, double warmup_s, double duration_s);

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_WORKLOADS_H_
