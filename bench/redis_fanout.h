// The redis-fanout workload of atomix-bench: the peer of watch-fanout on
// Redis pub/sub. N subscriber connections SUBSCRIBE to one channel; the
// writers PUBLISH to it, each on a connection of its own, with the same
// payloads and writer patterns as watch-fanout (bench/fanout.h), and every
// PUBLISH must report N receivers.
//
// Consumers: `consumers` threads, each with an epoll set over its share of
// the subscriber sockets (non-blocking, read until EAGAIN, then parse the
// "message" pushes). Redis has no revisions, so the check is per writer:
// every subscriber gets every write exactly once, in the writer's order.
//
// Thread-safety: RunRedisFanout runs on one thread and owns every thread it
// starts.
#ifndef ATOMIX_BENCH_REDIS_FANOUT_H_
#define ATOMIX_BENCH_REDIS_FANOUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "bench/fanout.h"

namespace atomix::bench {

// Runs against the redis-server at `address` ("127.0.0.1:PORT"). Fails if a
// connection or a PUBLISH fails.
absl::StatusOr<FanoutResult> RunRedisFanout(const std::string& address,
                                            const FanoutOptions& options);

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_REDIS_FANOUT_H_
