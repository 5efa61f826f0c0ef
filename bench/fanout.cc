#include "bench/fanout.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <limits>
#include <thread>

#include "absl/strings/str_cat.h"

namespace atomix::bench {
namespace {

constexpr int kSubBits = 7;  // 128 sub-buckets per power of two.
constexpr int64_t kSub = int64_t{1} << kSubBits;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

size_t BucketOf(int64_t ns) {
  uint64_t v = static_cast<uint64_t>(std::max<int64_t>(ns, 0));
  if (v < static_cast<uint64_t>(kSub)) return static_cast<size_t>(v);
  int shift = std::bit_width(v) - 1 - kSubBits;
  return static_cast<size_t>((shift + 1) * kSub + static_cast<int64_t>(v >> shift) - kSub);
}

// The midpoint of bucket `b`.
double BucketValue(size_t b) {
  int64_t i = static_cast<int64_t>(b);
  if (i < kSub) return static_cast<double>(i);
  int shift = static_cast<int>(i / kSub) - 1;
  int64_t low = (kSub + i % kSub) << shift;
  return static_cast<double>(low) + static_cast<double>(int64_t{1} << shift) / 2;
}

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Mix(int writer, int64_t seq, int64_t revision) {
  return SplitMix(SplitMix((static_cast<uint64_t>(seq) << 16) ^ static_cast<uint64_t>(writer)) ^
                  static_cast<uint64_t>(revision));
}

// "<send ns> <writer> <seq> " padded with 'x' to `bytes`.
std::string Payload(int64_t ts, int writer, int64_t seq, int bytes) {
  std::string p = absl::StrCat(ts, " ", writer, " ", seq, " ");
  if (static_cast<int>(p.size()) < bytes) p.append(static_cast<size_t>(bytes) - p.size(), 'x');
  return p;
}

// Parses the next space-terminated integer of `s` at `pos`.
bool NextInt(std::string_view s, size_t& pos, int64_t& out) {
  const char* begin = s.data() + pos;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(begin, end, out);
  if (ec != std::errc() || ptr == end || *ptr != ' ') return false;
  pos = static_cast<size_t>(ptr - s.data()) + 1;
  return true;
}

}  // namespace

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Histogram::Histogram() : buckets_(static_cast<size_t>((64 - kSubBits + 1) * kSub), 0) {}

void Histogram::Add(int64_t ns) {
  ++buckets_[BucketOf(ns)];
  ++count_;
  max_ = std::max(max_, ns);
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

double Histogram::Quantile(double p) const {
  if (count_ == 0) return 0;
  int64_t rank = std::min(count_ - 1, static_cast<int64_t>(p * static_cast<double>(count_)));
  int64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen > rank) return std::min(BucketValue(i), static_cast<double>(max_));
  }
  return static_cast<double>(max_);
}

FanoutRun::FanoutRun(const FanoutOptions& options)
    : options_(options), measure_start_ns_(kNever), measure_end_ns_(kNever) {
  int n = options_.rate > 0 ? 1 : std::max(1, options_.writers);
  for (int i = 0; i < n; ++i) writers_.push_back(std::make_unique<WriterState>());
}

FanoutRun::Watcher FanoutRun::NewWatcher() const {
  Watcher w;
  w.next_seq.assign(writers_.size(), 0);
  return w;
}

void FanoutRun::Fail(Watcher& w, std::string error) {
  if (w.error.empty()) w.error = std::move(error);
}

void FanoutRun::Deliver(Watcher& w, Histogram& latency, std::string_view payload, int64_t revision,
                        int64_t now_ns) {
  size_t pos = 0;
  int64_t ts = 0, writer = 0, seq = 0;
  if (!NextInt(payload, pos, ts) || !NextInt(payload, pos, writer) || !NextInt(payload, pos, seq) ||
      writer < 0 || writer >= writers()) {
    Fail(w, absl::StrCat("undecodable payload \"", std::string(payload.substr(0, 40)), "\""));
    return;
  }
  int64_t& next = w.next_seq[static_cast<size_t>(writer)];
  if (seq != next) {
    Fail(w, absl::StrCat("writer ", writer, ": got write ", seq, ", expected ", next,
                         seq < next ? " (repeated or out of order)" : " (missed)"));
  }
  next = std::max(next, seq + 1);
  if (revision != 0) {
    if (revision <= w.last_revision) {
      Fail(w, absl::StrCat("revision ", revision, " after ", w.last_revision));
    }
    w.last_revision = revision;
  }
  w.digest += Mix(static_cast<int>(writer), seq, revision);
  ++w.received;
  if (ts >= measure_start_ns_.load(std::memory_order_relaxed) &&
      ts < measure_end_ns_.load(std::memory_order_relaxed)) {
    latency.Add(now_ns - ts);
  }
  WriterState& ws = *writers_[static_cast<size_t>(writer)];
  int64_t d = ws.delivered.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (options_.rate <= 0 && d == (seq + 1) * options_.watchers) {
    std::lock_guard<std::mutex> lock(ws.mu);
    ws.cv.notify_one();
  }
}

absl::Status FanoutRun::WriteLoop(int writer, const WriteFn& write) {
  WriterState& ws = *writers_[static_cast<size_t>(writer)];
  const bool open_loop = options_.rate > 0;
  const int64_t interval_ns = open_loop ? static_cast<int64_t>(1e9 / options_.rate) : 0;
  const int64_t first_ns = SteadyNowNs();
  for (int64_t seq = 0; !stop_.load(std::memory_order_relaxed); ++seq) {
    if (open_loop) {
      std::this_thread::sleep_until(std::chrono::steady_clock::time_point(
          std::chrono::nanoseconds(first_ns + seq * interval_ns)));
    }
    int64_t ts = SteadyNowNs();
    absl::StatusOr<int64_t> revision =
        write(writer, Payload(ts, writer, seq, options_.value_bytes));
    if (!revision.ok()) return revision.status();
    ws.digest += Mix(writer, seq, *revision);
    ws.send_ns.push_back(ts);
    std::unique_lock<std::mutex> lock(ws.mu);
    ws.writes = seq + 1;
    if (open_loop) continue;
    const int64_t target = (seq + 1) * options_.watchers;
    ws.cv.wait(lock, [&] {
      return ws.delivered.load(std::memory_order_acquire) >= target ||
             stop_.load(std::memory_order_relaxed);
    });
    if (ws.delivered.load(std::memory_order_acquire) >= target &&
        ts >= measure_start_ns_.load(std::memory_order_relaxed) &&
        ts < measure_end_ns_.load(std::memory_order_relaxed)) {
      ws.last.Add(SteadyNowNs() - ts);
    }
  }
  return absl::OkStatus();
}

absl::Status FanoutRun::Drive(const WriteFn& write) {
  const int64_t start = SteadyNowNs() + static_cast<int64_t>(options_.warmup_s * 1e9);
  const int64_t end = start + static_cast<int64_t>(options_.duration_s * 1e9);
  measure_end_ns_.store(end);
  measure_start_ns_.store(start);

  std::vector<absl::Status> statuses(writers_.size());
  std::vector<std::thread> threads;
  for (int i = 0; i < writers(); ++i) {
    threads.emplace_back([&, i] {
      statuses[static_cast<size_t>(i)] = WriteLoop(i, write);
      if (!statuses[static_cast<size_t>(i)].ok()) stop_ = true;
    });
  }
  while (!stop_.load() && SteadyNowNs() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop_ = true;
  for (auto& ws : writers_) {
    std::lock_guard<std::mutex> lock(ws->mu);
    ws->cv.notify_all();
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& s : statuses) {
    if (!s.ok()) return s;
  }
  const int64_t drain_end = SteadyNowNs() + static_cast<int64_t>(options_.drain_s * 1e9);
  while (!AllDelivered() && SteadyNowNs() < drain_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

bool FanoutRun::AllDelivered() const {
  for (const auto& ws : writers_) {
    int64_t writes;
    {
      std::lock_guard<std::mutex> lock(ws->mu);
      writes = ws->writes;
    }
    if (ws->delivered.load() < writes * options_.watchers) return false;
  }
  return true;
}

FanoutResult FanoutRun::Finish(const std::vector<const Watcher*>& watchers,
                               const std::vector<const Histogram*>& latencies) const {
  FanoutResult r;
  r.watchers = options_.watchers;
  r.seconds = options_.duration_s;
  const int64_t start = measure_start_ns_.load();
  const int64_t end = measure_end_ns_.load();
  uint64_t digest = 0;
  std::vector<int64_t> writes_of;
  for (const auto& ws : writers_) {
    for (int64_t ts : ws->send_ns) {
      if (ts >= start && ts < end) ++r.writes;
    }
    std::lock_guard<std::mutex> lock(ws->mu);
    writes_of.push_back(ws->writes);
    r.total_writes += ws->writes;
    digest += ws->digest;
  }
  Histogram last;
  for (const auto& ws : writers_) last.Merge(ws->last);
  r.last_p50_us = last.Quantile(0.50) / 1000.0;
  r.last_p99_us = last.Quantile(0.99) / 1000.0;
  Histogram all;
  for (const Histogram* h : latencies) all.Merge(*h);
  r.deliveries = all.count();
  r.writes_per_sec = static_cast<double>(r.writes) / r.seconds;
  r.events_per_sec = static_cast<double>(r.deliveries) / r.seconds;
  r.p50_us = all.Quantile(0.50) / 1000.0;
  r.p99_us = all.Quantile(0.99) / 1000.0;
  r.max_us = static_cast<double>(all.max()) / 1000.0;

  int failed = 0;
  std::string first;
  for (size_t i = 0; i < watchers.size(); ++i) {
    const Watcher& w = *watchers[i];
    std::string error = w.error;
    if (error.empty()) {
      for (size_t j = 0; j < writes_of.size() && error.empty(); ++j) {
        if (w.next_seq[j] != writes_of[j]) {
          error = absl::StrCat("got ", w.next_seq[j], " of the ", writes_of[j],
                               " writes of writer ", j);
        }
      }
    }
    if (error.empty() && w.received != r.total_writes) {
      error = absl::StrCat("received ", w.received, " events for ", r.total_writes, " writes");
    }
    if (error.empty() && w.digest != digest) {
      error = "the revisions delivered differ from the revisions the writes returned";
    }
    if (!error.empty() && failed++ == 0) first = absl::StrCat("watcher ", i, ": ", error);
  }
  if (failed > 0) {
    r.check_error = absl::StrCat(first, " (", failed, " of ", watchers.size(), " watchers failed)");
  }
  return r;
}

}  // namespace atomix::bench
