// The measuring core shared by the fan-out workloads of atomix-bench
// (watch-fanout: atomix Map watches; redis-fanout: Redis pub/sub).
//
// N watchers follow one stream of writes. Writers send payloads that carry
// the steady_clock time of the send (writer and watchers run in one
// process, so their clocks agree). A watcher's consumer thread hands every
// payload it takes to Deliver(), which records the write-to-delivery
// latency and checks that the watcher gets every write exactly once and in
// order: per writer, sequence numbers 0, 1, 2, ... with no gap and no
// repeat; when the target reports revisions (atomix), strictly increasing
// revisions, each equal to the one the write returned (checked at the end
// through a per-watcher digest).
//
// Two writer patterns:
//   - closed loop (rate 0): `writers` threads; each sends a write, then
//     waits until every watcher has taken it before sending its next one,
//     so at most `writers` writes are in flight;
//   - open loop (rate > 0): one thread sends `rate` writes per second on a
//     fixed schedule, without waiting for deliveries (each write itself is
//     synchronous: a late write goes out at once, it is never skipped).
//
// Thread-safety: Deliver() may run on many consumer threads at once, as
// long as each Watcher (and each Histogram) is used by one thread only.
// Drive() and Finish() run on one thread.
#ifndef ATOMIX_BENCH_FANOUT_H_
#define ATOMIX_BENCH_FANOUT_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace atomix::bench {

inline constexpr char kWatchFanout[] = "watch-fanout";
inline constexpr char kRedisFanout[] = "redis-fanout";

struct FanoutOptions {
  int watchers = 1;
  // Closed loop: concurrent writers, each with one write in flight.
  int writers = 1;
  // Writes per second of one open-loop writer; 0 for the closed loop.
  double rate = 0;
  double warmup_s = 1;
  double duration_s = 5;
  // Threads that take events from the watchers (each owns a share of them).
  int consumers = 2;
  // Bytes of each written value (at least enough for its header).
  int value_bytes = 64;
  // How long to wait, after the last write, for every watcher to get it.
  double drain_s = 30;
};

struct FanoutResult {
  int watchers = 0;
  double seconds = 0;
  // Writes sent in the measured interval, and their rate.
  int64_t writes = 0;
  double writes_per_sec = 0;
  // Deliveries of those writes (watcher x write), and their rate.
  int64_t deliveries = 0;
  double events_per_sec = 0;
  // Write-to-delivery latency over those deliveries (within 1%).
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
  // Closed loop: from a write's send until its last watcher got it.
  double last_p50_us = 0;
  double last_p99_us = 0;
  // Every write of the run, warmup included.
  int64_t total_writes = 0;
  // Empty if every watcher got every write exactly once, in order;
  // otherwise what went wrong (first watcher, and how many failed).
  std::string check_error;
};

// A log-linear latency histogram: exact below 128 ns, else within 1/128.
class Histogram {
 public:
  Histogram();
  void Add(int64_t ns);
  void Merge(const Histogram& other);
  int64_t count() const { return count_; }
  int64_t max() const { return max_; }
  // The value at quantile p (0..1), in ns: its bucket's midpoint.
  double Quantile(double p) const;

 private:
  std::vector<int64_t> buckets_;
  int64_t count_ = 0;
  int64_t max_ = 0;
};

class FanoutRun {
 public:
  // What one watcher has received so far.
  struct Watcher {
    std::vector<int64_t> next_seq;  // Per writer.
    int64_t last_revision = 0;
    int64_t received = 0;
    uint64_t digest = 0;
    std::string error;  // The first violation, if any.
  };

  explicit FanoutRun(const FanoutOptions& options);

  const FanoutOptions& options() const { return options_; }
  int writers() const { return static_cast<int>(writers_.size()); }
  Watcher NewWatcher() const;

  // One delivery to `w` of `payload`, at `revision` (0 if the target has no
  // revisions), taken by its consumer at steady_clock time `now_ns`.
  void Deliver(Watcher& w, Histogram& latency, std::string_view payload, int64_t revision,
               int64_t now_ns);
  // Records a violation the consumer saw itself (an unexpected event type,
  // a closed channel).
  static void Fail(Watcher& w, std::string error);

  // Sends writes through `write` (which returns the write's revision, or 0)
  // for warmup + duration, then waits up to drain_s for every delivery.
  // A failed write stops the run with that error.
  using WriteFn = std::function<absl::StatusOr<int64_t>(int writer, const std::string& payload)>;
  absl::Status Drive(const WriteFn& write);

  // Builds the result from every watcher and every consumer's histogram;
  // call after the consumers have stopped.
  FanoutResult Finish(const std::vector<const Watcher*>& watchers,
                      const std::vector<const Histogram*>& latencies) const;

  // Whether every write sent so far reached every watcher.
  bool AllDelivered() const;

 private:
  struct WriterState {
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<int64_t> delivered{0};  // Deliveries of this writer's writes.
    int64_t writes = 0;                 // Sent; guarded by mu.
    uint64_t digest = 0;                // Of every write sent; writer thread only.
    std::vector<int64_t> send_ns;       // Writer thread only.
    // Closed loop: send to the last watcher's delivery, per measured write;
    // writer thread only until Finish().
    Histogram last;
  };

  absl::Status WriteLoop(int writer, const WriteFn& write);

  FanoutOptions options_;
  std::vector<std::unique_ptr<WriterState>> writers_;
  std::atomic<bool> stop_{false};
  // The measured interval, by send time; set once Drive() starts (until
  // then nothing is measured).
  std::atomic<int64_t> measure_start_ns_;
  std::atomic<int64_t> measure_end_ns_;
};

int64_t SteadyNowNs();

}  // namespace atomix::bench

#endif  // ATOMIX_BENCH_FANOUT_H_
