#include "bench/workloads.h"

#include <algorithm>
#include <atomic>
#include <chrono>
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

class CounterIncrement : public Workload {
 public:
  explicit CounterIncrement(std::vector<Counter> c) : c_(std::move(c)) {}
  absl::Status Op(int caller, int64_t) override { return c_.For(caller).Increment(1).status(); }

 private:
  PerClient<Counter> c_;
};

class CounterGet : public Workload {
 public:
  explicit CounterGet(std::vector<Counter> c) : c_(std::move(c)) {}
  absl::Status Op(int caller, int64_t) override { return c_.For(caller).Get().status(); }

 private:
  PerClient<Counter> c_;
};

// Each caller writes or reads its own 1,000 keys of 100-byte values.
class MapPut : public Workload {
 public:
  explicit MapPut(std::vector<Map<std::string, std::string>> m) : m_(std::move(m)) {}
  absl::Status Op(int caller, int64_t i) override {
    return m_.For(caller).Put(absl::StrCat("c", caller, "/k", i % 1000), value_).status();
  }

 private:
  PerClient<Map<std::string, std::string>> m_;
  std::string value_ = std::string(100, 'v');
};

// Every Put a new key: fills a map (for recovery-time measurements).
class MapFill : public Workload {
 public:
  explicit MapFill(std::vector<Map<std::string, std::string>> m) : m_(std::move(m)) {}
  absl::Status Op(int caller, int64_t i) override {
    return m_.For(caller).Put(absl::StrCat("c", caller, "/k", i), value_).status();
  }

 private:
  PerClient<Map<std::string, std::string>> m_;
  std::string value_ = std::string(100, 'v');
};

class MapGet : public Workload {
 public:
  explicit MapGet(std::vector<Map<std::string, std::string>> m) : m_(std::move(m)) {}
  absl::Status Op(int caller, int64_t i) override {
    return m_.For(caller).Get(absl::StrCat("c", caller % 16, "/k", i % 1000)).status();
  }

 private:
  PerClient<Map<std::string, std::string>> m_;
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
  return {"counter-increment", "counter-get", "map-put", "map-get", "map-fill", "lock-cycle"};
}

absl::StatusOr<std::unique_ptr<Workload>> MakeWorkload(const std::string& name,
                                                       const std::vector<Client>& clients,
                                                       int callers) {
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
  auto maps = [&](const char* map_name) {
    return each([&](const Client& cl) { return GetMap<std::string, std::string>(cl, map_name); });
  };
  if (name == "map-fill") {
    auto m = maps("bench-fill");
    if (!m.ok()) return m.status();
    return std::unique_ptr<Workload>(new MapFill(*m));
  }
  if (name == "map-put" || name == "map-get") {
    auto m = maps("bench-map");
    if (!m.ok()) return m.status();
    if (name == "map-get") {
      // Preload the keys the readers ask for.
      std::string value(100, 'v');
      for (int c = 0; c < 16; ++c) {
        for (int k = 0; k < 1000; ++k) {
          auto s = m->front().Put(absl::StrCat("c", c, "/k", k), value);
          if (!s.ok()) return s.status();
        }
      }
      return std::unique_ptr<Workload>(new MapGet(*m));
    }
    return std::unique_ptr<Workload>(new MapPut(*m));
  }
  if (name == "lock-cycle") {
    // A lock belongs to a session, and a session to a client: each caller
    // gets a client of its own so that callers really contend.
    std::vector<Lock> locks;
    for (int i = 0; i < callers; ++i) {
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

Result Run(Workload& w, int callers, double warmup_s, double duration_s) {
  std::atomic<bool> measuring{false};
  std::atomic<bool> stop{false};
  std::mutex mu;
  Result r;
  std::vector<int64_t> all;

  std::vector<std::thread> threads;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      std::vector<int64_t> lat;
      lat.reserve(1 << 16);
      int64_t ops = 0, errors = 0;
      std::string first_error;
      for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        auto t0 = Clock::now();
        absl::Status s = w.Op(c, i);
        auto t1 = Clock::now();
        if (!measuring.load(std::memory_order_relaxed)) continue;
        if (s.ok()) {
          ++ops;
          lat.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
        } else {
          if (errors++ == 0) first_error = s.ToString();
        }
      }
      std::lock_guard<std::mutex> l(mu);
      r.ops += ops;
      r.errors += errors;
      if (r.first_error.empty()) r.first_error = first_error;
      all.insert(all.end(), lat.begin(), lat.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup_s));
  auto start = Clock::now();
  measuring = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(duration_s));
  measuring = false;
  auto end = Clock::now();
  stop = true;
  for (auto& t : threads) t.join();

  r.seconds = std::chrono::duration<double>(end - start).count();
  r.ops_per_sec = static_cast<double>(r.ops) / r.seconds;
  r.p50_us = Percentile(all, 0.50);
  r.p99_us = Percentile(all, 0.99);
  return r;
}

}  // namespace atomix::bench
