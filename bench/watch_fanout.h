// The watch-fanout workload of atomix-bench: N watchers of one
// Map<std::string, std::string>, spread over ceil(N / watchers_per_client)
// Clients, follow the writes of a separate writer Client (see
// bench/fanout.h for the writer patterns, what is measured and what is
// checked).
//
// Consumers: `consumers` threads, each owning every consumers-th watcher.
// A consumer drains each of its channels in turn with TryReceive(); after a
// pass that found nothing it blocks in Receive(1 ms) on one of its channels
// (the next one in turn), so an idle consumer sleeps instead of spinning.
// Any event other than the kInserted/kUpdated of a write (a kResync, say),
// or a channel that closes, fails the check.
//
// Thread-safety: RunWatchFanout runs on one thread and owns every thread it
// starts.
#ifndef ATOMIX_BENCH_WATCH_FANOUT_H_
#define ATOMIX_BENCH_WATCH_FANOUT_H_

#include "absl/status/statusor.h"
#include "atomix/client.h"
#include "bench/fanout.h"

namespace atomix::bench {

// Opens the watches on a fresh map, runs the writers, and returns the
// result (check_error set if a watcher missed, repeated or reordered a
// write). Fails if a client, a watch or a write fails.
absl::StatusOr<FanoutResult> RunWatchFanout(const ClientOptions& client_options,
                                            const FanoutOptions& options, int watchers_per_client);

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_WATCH_FANOUT_H_
