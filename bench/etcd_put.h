// The etcd side of the comparisons with etcd: Puts and Ranges on etcd's own
// gRPC API (etcdserverpb.KV), from `callers` threads over one channel.
//
//   atomix-bench --workload etcd-put --etcd 127.0.0.1:2379 --callers 64
//   atomix-bench --workload etcd-get --etcd 127.0.0.1:2379 --callers 64 --value-bytes 100
//
// etcd-put has the shape of atomix's map-put (100-byte values, key
// caller/i mod 1000). etcd-get first writes one key with a value of
// --value-bytes bytes, then reads that key with a Range of one key (etcd's
// default, linearizable read), the peer of atomix's map-get.
//
// They speak the wire format directly (a PutRequest or a one-key
// RangeRequest is length-delimited fields only), so they need none of etcd's
// .proto files.
//
// Thread-safety: Op() is safe from many threads at once.
#ifndef ATOMIX_BENCH_ETCD_PUT_H_
#define ATOMIX_BENCH_ETCD_PUT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/workloads.h"

namespace atomix::bench {

inline constexpr char kEtcdPut[] = "etcd-put";
inline constexpr char kEtcdGet[] = "etcd-get";

// A Put workload against the etcd at `endpoint` (host:port).
std::unique_ptr<Workload> MakeEtcdPut(const std::string& endpoint);

// A Range workload against the etcd at `endpoint`, on one key it writes
// first with a value of `value_bytes` bytes. Fails if that write fails.
absl::StatusOr<std::unique_ptr<Workload>> MakeEtcdGet(const std::string& endpoint,
                                                      int value_bytes);

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_ETCD_PUT_H_
