// The etcd side of the durable-write comparison: Puts on etcd's own gRPC API
// (etcdserverpb.KV/Put), the same shape as atomix's map-put (100-byte
// values, key caller/i mod 1000), from `callers` threads over one channel.
//
//   atomix-bench --workload etcd-put --etcd 127.0.0.1:2379 --callers 64
//
// It speaks the wire format directly (a PutRequest is two length-delimited
// fields), so it needs none of etcd's .proto files.
//
// Thread-safety: Op() is safe from many threads at once.
#ifndef ATOMIX_BENCH_ETCD_PUT_H_
#define ATOMIX_BENCH_ETCD_PUT_H_

#include <memory>
#include <string>

#include "bench/workloads.h"

namespace atomix::bench {

inline constexpr char kEtcdPut[] = "etcd-put";

// A Put workload against the etcd at `endpoint` (host:port).
std::unique_ptr<Workload> MakeEtcdPut(const std::string& endpoint);

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_ETCD_PUT_H_
