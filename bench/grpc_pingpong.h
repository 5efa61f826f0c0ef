// The floor under a single caller's latency: one gRPC bidirectional stream
// per caller between two processes on loopback, with no broker behind it.
// Each operation writes one RequestBatch holding one counter increment and
// reads the one ResponseBatch the echo server answers it with, the same
// messages, stream kind and sizes as an atomix call.
//
//   atomix-bench --workload grpc-pingpong --callers 1
//
// atomix-bench starts the echo server as a child of itself
// (--pingpong-server PORT_FILE), a synchronous gRPC server that answers each
// batch on the stream's own thread.
//
// Thread-safety: Op() is safe from many threads at once; each caller has a
// stream of its own.
#ifndef ATOMIX_BENCH_GRPC_PINGPONG_H_
#define ATOMIX_BENCH_GRPC_PINGPONG_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/workloads.h"

namespace atomix::bench {

inline constexpr char kGrpcPingPong[] = "grpc-pingpong";

// Starts the echo server and connects `callers` streams to it.
absl::StatusOr<std::unique_ptr<Workload>> MakeGrpcPingPong(int callers);

// The echo server's process: listens on a free loopback port, writes it to
// `port_file`, and serves until killed.
int RunPingPongServer(const std::string& port_file);

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_GRPC_PINGPONG_H_
