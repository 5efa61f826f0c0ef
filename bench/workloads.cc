#include "bench/workloads.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "atomix/atomix.h"

namespace atomix::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Each workload holds one proxy per client; caller c uses client c % n.
template <typename T>
class PerClient {
 public:
  explicit PerClient(std::vector<T> all) : all_(std::move(all)) {}
  const T& For(int caller) const { return all_[static_cast<size_t>(caller) % all_.size()]; }

 private:
  std::vector<T> all_;
};

template <class T>
Future<void> Done(Future<T> f) {
  return internal::MapFuture<void>(std::move(f),
                                   [](internal::Result<T> r) { return r.status(); });
}

class CounterIncrement : public AsyncWorkload {
 public:
  explicit CounterIncrement(std::vector<Counter> c) : c_(std::move(c)) {}
  Future<void> Start(int caller, int64_t) override {
    return Done(c_.For(caller).IncrementAsync(1));
  }

 private:
  PerClient<Counter> c_;
};

class CounterGet : public AsyncWorkload {
 public:
  explicit CounterGet(std::vector<Counter> c) : c_(std::move(c)) {}
  Future<void> Start(int caller, int64_t) override { return Done(c_.For(caller).GetAsync()); }

 private:
  PerClient<Counter> c_;
};

using StringMap = Map<std::string, std::string>;

// Puts of --value-bytes values over --keys keys (every Put a new key for
// map-fill), or Gets of preloaded keys.
class MapOp : public AsyncWorkload {
 public:
  enum class Kind { kPut, kFill, kGet };
  MapOp(std::vector<StringMap> m, Kind kind, const WorkloadOptions& o)
      : m_(std::move(m)), kind_(kind), keys_(std::max(1, o.keys)),
        value_(static_cast<size_t>(std::max(0, o.value_bytes)), 'v') {}
  Future<void> Start(int caller, int64_t i) override {
    const StringMap& m = m_.For(caller);
    // Callers start at different keys, so that they do not all write one.
    const int64_t n = i * 7919 + caller * 104729;
    switch (kind_) {
      case Kind::kPut:
        return Done(m.PutAsync(Key(n % keys_), value_));
      case Kind::kFill:
        return Done(m.PutAsync(absl::StrCat("c", caller, "/k", i), value_));
      case Kind::kGet:
        return Done(m.GetAsync(Key(n % keys_)));
    }
    return Future<void>();
  }
  static std::string Key(int64_t k) { return absl::StrCat("k", k); }

 private:
  PerClient<StringMap> m_;
  Kind kind_;
  int64_t keys_;
  std::string value_;
};

// A contended compare-and-set loop: every caller adds 1 to one Value<int64_t>
// by reading it and writing it back with IfVersion, reading again after
// each conflict. One operation is one successful write.
class ValueCas : public AsyncWorkload {
 public:
  explicit ValueCas(std::vector<Value<int64_t>> v) : v_(std::move(v)) {}
  Future<void> Start(int caller, int64_t) override { return Increment(v_.For(caller), this); }
  int64_t conflicts() const override { return conflicts_.load(); }

 private:
  static Future<void> Increment(Value<int64_t> v, ValueCas* self) {
    for (;;) {
      auto current = co_await v.GetAsync();
      if (!current.ok()) co_return current.status();
      if (!current->has_value()) co_return absl::NotFoundError("bench-cas has no value");
      auto written = co_await v.SetAsync((*current)->value + 1, IfVersion((*current)->version));
      if (written.ok()) co_return absl::OkStatus();
      if (!absl::IsFailedPrecondition(written.status())) co_return written.status();
      ++self->conflicts_;
    }
  }

  PerClient<Value<int64_t>> v_;
  std::atomic<int64_t> conflicts_{0};
};

// Acquire then release one shared lock: with one caller the uncontended
// cost, with many the FIFO handoff between sessions.
class LockCycle : public Workload {
 public:
  explicit LockCycle(std::vector<Lock> locks) : locks_(std::move(locks)) {}
  absl::Status Op(int caller, int64_t) override {
    const Lock& lock = locks_[static_cast<size_t>(caller) % locks_.size()];
    auto fence = lock.Acquire();
    if (!fence.ok()) return fence.status();
    return lock.Release(IfVersion(fence->version));
  }

 private:
  std::vector<Lock> locks_;
};

double Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

}  // namespace

std::vector<std::string> WorkloadNames() {
  return {"counter-increment", "counter-get", "map-put",   "map-get",
          "map-fill",          "value-cas",   "lock-cycle"};
}

absl::StatusOr<std::unique_ptr<Workload>> MakeWorkload(const std::string& name,
                                                       const std::vector<Client>& clients,
                                                       const WorkloadOptions& options) {
  if (clients.empty()) return absl::InvalidArgumentError("no client");
  // One proxy of `make` per client.
  auto each = [&](auto make) -> decltype(absl::StatusOr<std::vector<typename decltype(
                                 make(clients[0]))::value_type>>()) {
    std::vector<typename decltype(make(clients[0]))::value_type> all;
    for (const Client& client : clients) {
      auto p = make(client);
      if (!p.ok()) return p.status();
      all.push_back(*std::move(p));
    }
    return all;
  };
  if (name == "counter-increment" || name == "counter-get") {
    auto c = each([](const Client& cl) { return GetCounter(cl, "bench-counter"); });
    if (!c.ok()) return c.status();
    if (name == "counter-get") return std::unique_ptr<Workload>(new CounterGet(*c));
    return std::unique_ptr<Workload>(new CounterIncrement(*c));
  }
  if (name == "map-put" || name == "map-get" || name == "map-fill") {
    auto m = each([&](const Client& cl) {
      return GetMap<std::string, std::string>(cl, name == "map-fill" ? "bench-fill" : "bench-map");
    });
    if (!m.ok()) return m.status();
    MapOp::Kind kind = name == "map-put"   ? MapOp::Kind::kPut
                       : name == "map-get" ? MapOp::Kind::kGet
                                           : MapOp::Kind::kFill;
    if (kind == MapOp::Kind::kGet) {
      // Preload the keys the readers ask for, 1024 at a time.
      const std::string value(static_cast<size_t>(std::max(0, options.value_bytes)), 'v');
      for (int first = 0; first < options.keys; first += 1024) {
        std::vector<Future<Version>> puts;
        for (int k = first; k < std::min(options.keys, first + 1024); ++k) {
          puts.push_back(m->front().PutAsync(MapOp::Key(k), value));
        }
        for (auto& p : puts) {
          auto s = p.get();
          if (!s.ok()) return s.status();
        }
      }
    }
    return std::unique_ptr<Workload>(new MapOp(*std::move(m), kind, options));
  }
  if (name == "value-cas") {
    auto v = each([](const Client& cl) { return GetValue<int64_t>(cl, "bench-cas"); });
    if (!v.ok()) return v.status();
    auto start = v->front().Insert(0);
    if (!start.ok() && !absl::IsAlreadyExists(start.status())) return start.status();
    return std::unique_ptr<Workload>(new ValueCas(*std::move(v)));
  }
  if (name == "lock-cycle") {
    // A lock belongs to a session, and a session to a client: each caller
    // gets a client of its own so that callers really contend.
    std::vector<Lock> locks;
    for (int i = 0; i < options.callers; ++i) {
      auto c = Client::Connect(clients[static_cast<size_t>(i) % clients.size()].options());
      if (!c.ok()) return c.status();
      auto l = GetLock(*c, "bench-lock");
      if (!l.ok()) return l.status();
      locks.push_back(*l);
    }
    return std::unique_ptr<Workload>(new LockCycle(std::move(locks)));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown workload \"", name, "\""));
}

namespace {

// Latencies and counts of one measuring thread.
struct Tally {
  std::vector<int64_t> latencies_ns;
  int64_t ops = 0;
  int64_t errors = 0;
  std::string first_error;

  void Add(const absl::Status& s, Clock::time_point t0, Clock::time_point t1) {
    if (s.ok()) {
      ++ops;
      latencies_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    } else if (errors++ == 0) {
      first_error = s.ToString();
    }
  }
};

// Runs `body(measuring, stop)` on the caller's threads through a warmup and
// a measured period, and sums their tallies.
template <class Body>
Result Measure(int threads, double warmup_s, double duration_s, const Workload& w, Body body) {
  std::atomic<bool> measuring{false};
  std::atomic<bool> stop{false};
  std::mutex mu;
  Result r;
  std::vector<int64_t> all;
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      Tally tally;
      tally.latencies_ns.reserve(1 << 16);
      body(t, measuring, stop, tally);
      std::lock_guard<std::mutex> l(mu);
      r.ops += tally.ops;
      r.errors += tally.errors;
      if (r.first_error.empty()) r.first_error = tally.first_error;
      all.insert(all.end(), tally.latencies_ns.begin(), tally.latencies_ns.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup_s));
  const int64_t conflicts_before = w.conflicts();
  auto start = Clock::now();
  measuring = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(duration_s));
  measuring = false;
  auto end = Clock::now();
  r.conflicts = w.conflicts() - conflicts_before;
  stop = true;
  for (auto& t : running) t.join();

  r.seconds = std::chrono::duration<double>(end - start).count();
  r.ops_per_sec = static_cast<double>(r.ops) / r.seconds;
  FillLatencies(all, r);
  return r;
}

}  // namespace

void FillLatencies(std::vector<int64_t>& all, Result& r) {
  r.p50_us = Percentile(all, 0.50);
  r.p90_us = Percentile(all, 0.90);
  r.p99_us = Percentile(all, 0.99);
  r.p999_us = Percentile(all, 0.999);
  r.max_us =
      all.empty() ? 0 : static_cast<double>(*std::max_element(all.begin(), all.end())) / 1000.0;
}

Result Run(Workload& w, int callers, double warmup_s, double duration_s) {
  return Measure(callers, warmup_s, duration_s, w,
                 [&](int c, std::atomic<bool>& measuring, std::atomic<bool>& stop, Tally& tally) {
                   for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
                     auto t0 = Clock::now();
                     absl::Status s = w.Op(c, i);
                     auto t1 = Clock::now();
                     if (measuring.load(std::memory_order_relaxed)) tally.Add(s, t0, t1);
                   }
                 });
}

Result RunAsync(AsyncWorkload& w, int inflight, double warmup_s, double duration_s) {
  return Measure(1, warmup_s, duration_s, w,
                 [&](int, std::atomic<bool>& measuring, std::atomic<bool>& stop, Tally& tally) {
                   struct Started {
                     Future<void> future;
                     Clock::time_point t0;
                     bool measured;
                   };
                   std::deque<Started> window;
                   int64_t i = 0;
                   while (!stop.load(std::memory_order_relaxed) || !window.empty()) {
                     while (!stop.load(std::memory_order_relaxed) &&
                            window.size() < static_cast<size_t>(inflight)) {
                       const auto t0 = Clock::now();
                       window.push_back(Started{w.Start(i % inflight, i), t0,
                                                measuring.load(std::memory_order_relaxed)});
                       ++i;
                     }
                     Started& oldest = window.front();
                     absl::Status s = oldest.future.get();
                     const auto t1 = Clock::now();
                     if (oldest.measured && measuring.load(std::memory_order_relaxed)) {
                       tally.Add(s, oldest.t0, t1);
                     }
                     window.pop_front();
                   }
                 });
}

}  // namespace atomix::bench
