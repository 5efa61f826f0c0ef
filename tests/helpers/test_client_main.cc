// atomix-test-client: a separate client process for failure and contention
// tests.
//
//   atomix-test-client ENDPOINT TTL_MS lock NAME
//   atomix-test-client ENDPOINT TTL_MS elect NAME CANDIDATE_ID
//   atomix-test-client ENDPOINT TTL_MS contend NAME THREADS ITERATIONS BARRIER
//   atomix-test-client ENDPOINT TTL_MS watch-election NAME
//   atomix-test-client ENDPOINT TTL_MS default-lock NAME exit|hold
//
// lock and elect take the lock or enter the election, print what they got
// on one line ("fence F", "term T leader ID"), and then hold on until killed.
//
// watch-election prints "watching" once its watch is open, then one line per
// term change the watch delivers ("term T leader ID candidates A,B"), until
// killed; it exits 1 if the watch ends.
//
// default-lock takes the lock through the default client, as the README's
// code does (ATOMIX_BROKER=ENDPOINT; TTL_MS is ignored: the default client
// has the default TTL), prints "fence F", and then with `exit` returns from
// main at once, or with `hold` holds on until a signal ends it.
//
// contend runs THREADS threads, each with a client (and so a session) of its
// own. Each thread adds 1 to the counter "NAME-ready" and waits until it
// reaches BARRIER (the number of contending threads over all processes), then
// ITERATIONS times: acquires the lock NAME, takes CLOCK_MONOTONIC, writes
// its grant to the map "NAME-guarded" (key "owner") with IfFence, takes
// CLOCK_MONOTONIC again, and releases with IfVersion(fence). When every
// thread is done it prints one line per critical section and a last line:
//
//   cs FENCE ENTER_NS EXIT_NS PUT_CODE PUT_VERSION VALUE
//   done SECTIONS ERRORS OVERLAPS
//
// PUT_CODE is the absl::StatusCode of the fenced Put (0 = OK), PUT_VERSION its
// revision (or CurrentVersion of its error, or 0), VALUE the value it wrote
// ("PID/THREAD/FENCE"). ERRORS counts failed acquires, releases and setup
// steps (each is described on stderr; a thread stops at its first one).
// OVERLAPS counts critical sections this process entered while another of
// its own threads was inside one.
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "atomix/atomix.h"

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

[[noreturn]] void HoldUntilKilled() {
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(seconds(60));
}

int Lock(const atomix::Client& client, const std::string& name) {
  auto lock = atomix::GetLock(client, name);
  if (!lock.ok()) return 1;
  auto fence = lock->Acquire();
  if (!fence.ok()) {
    std::fprintf(stderr, "acquire: %s\n", fence.status().ToString().c_str());
    return 1;
  }
  std::printf("fence %lld\n", static_cast<long long>(fence->version));
  HoldUntilKilled();
}

int DefaultLock(const std::string& name, const std::string& then) {
  auto lock = atomix::GetLock(name);
  if (!lock.ok()) {
    std::fprintf(stderr, "lock: %s\n", lock.status().ToString().c_str());
    return 1;
  }
  auto fence = lock->Acquire();
  if (!fence.ok()) {
    std::fprintf(stderr, "acquire: %s\n", fence.status().ToString().c_str());
    return 1;
  }
  std::printf("fence %lld\n", static_cast<long long>(fence->version));
  std::fflush(stdout);
  if (then == "hold") HoldUntilKilled();
  return 0;  // Leaves holding the lock: the exit closes the session.
}

int Elect(const atomix::Client& client, const std::string& name, const std::string& id) {
  auto election = atomix::GetElection(client, name, atomix::WithCandidateID(id));
  if (!election.ok()) return 1;
  auto term = election->Enter();
  if (!term.ok()) {
    std::fprintf(stderr, "enter: %s\n", term.status().ToString().c_str());
    return 1;
  }
  std::printf("term %lld leader %s\n", static_cast<long long>(term->term), term->leader.c_str());
  HoldUntilKilled();
}

int WatchElection(const atomix::Client& client, const std::string& name) {
  auto election = atomix::GetElection(client, name, atomix::WithCandidateID("watcher"));
  if (!election.ok()) return 1;
  auto terms = election->Watch();
  if (!terms.ok()) {
    std::fprintf(stderr, "watch: %s\n", terms.status().ToString().c_str());
    return 1;
  }
  std::printf("watching\n");
  std::fflush(stdout);
  for (const atomix::Term& term : *terms) {
    std::string candidates;
    for (const std::string& c : term.candidates) {
      absl::StrAppend(&candidates, candidates.empty() ? "" : ",", c);
    }
    std::printf("term %lld leader %s candidates %s\n", static_cast<long long>(term.term),
                term.leader.c_str(), candidates.c_str());
    std::fflush(stdout);
  }
  std::fprintf(stderr, "watch ended: %s\n", terms->status().ToString().c_str());
  return 1;
}

struct Section {
  atomix::Version fence = 0;
  int64_t enter_ns = 0;
  int64_t exit_ns = 0;
  int put_code = 0;
  atomix::Version put_version = 0;
  std::string value;
};

class Contention {
 public:
  Contention(atomix::ClientOptions options, std::string name, int iterations, int64_t barrier)
      : options_(std::move(options)),
        name_(std::move(name)),
        iterations_(iterations),
        barrier_(barrier) {}

  void RunThread(int thread) {
    std::vector<Section> mine;
    absl::Status s = Contend(thread, mine);
    std::lock_guard<std::mutex> l(mu_);
    if (!s.ok()) {
      ++errors_;
      std::fprintf(stderr, "thread %d: %s\n", thread, s.ToString().c_str());
    }
    sections_.insert(sections_.end(), mine.begin(), mine.end());
  }

  void Print() {
    std::lock_guard<std::mutex> l(mu_);
    for (const Section& c : sections_) {
      std::printf("cs %lld %lld %lld %d %lld %s\n", static_cast<long long>(c.fence),
                  static_cast<long long>(c.enter_ns), static_cast<long long>(c.exit_ns), c.put_code,
                  static_cast<long long>(c.put_version), c.value.c_str());
    }
    std::printf("done %zu %d %d\n", sections_.size(), errors_, overlaps_.load());
    std::fflush(stdout);
  }

 private:
  absl::Status Contend(int thread, std::vector<Section>& out) {
    auto client = atomix::Client::Connect(options_);
    if (!client.ok()) return client.status();
    auto lock = atomix::GetLock(*client, name_);
    if (!lock.ok()) return lock.status();
    auto guarded = atomix::GetMap<std::string, std::string>(*client, name_ + "-guarded");
    if (!guarded.ok()) return guarded.status();
    auto ready = atomix::GetCounter(*client, name_ + "-ready");
    if (!ready.ok()) return ready.status();

    // Start together with every other contender, in this process or not.
    auto arrived = ready->Increment(1);
    if (!arrived.ok()) return arrived.status();
    const auto give_up = std::chrono::steady_clock::now() + seconds(30);
    for (;;) {
      auto n = ready->Get();
      if (!n.ok()) return n.status();
      if (*n >= barrier_) break;
      if (std::chrono::steady_clock::now() > give_up) {
        return absl::DeadlineExceededError(absl::StrCat("barrier: ", *n, " of ", barrier_));
      }
      std::this_thread::sleep_for(milliseconds(2));
    }

    const std::string tag = absl::StrCat(getpid(), "/", thread, "/");
    out.reserve(static_cast<size_t>(iterations_));
    for (int i = 0; i < iterations_; ++i) {
      auto fence = lock->Acquire(atomix::WithTimeout(seconds(30)));
      if (!fence.ok()) return fence.status();
      Section c;
      c.fence = fence->version;
      c.enter_ns = MonotonicNanos();
      if (inside_.fetch_add(1) != 0) ++overlaps_;
      c.value = absl::StrCat(tag, c.fence);
      auto put = guarded->Put("owner", c.value, atomix::IfFence(*lock, *fence));
      c.put_code = static_cast<int>(put.status().code());
      c.put_version = put.ok() ? *put : atomix::CurrentVersion(put.status()).value_or(0);
      c.exit_ns = MonotonicNanos();
      inside_.fetch_sub(1);
      out.push_back(std::move(c));
      absl::Status released = lock->Release(atomix::IfVersion(*fence));
      if (!released.ok()) return released;
    }
    return absl::OkStatus();
  }

  const atomix::ClientOptions options_;
  const std::string name_;
  const int iterations_;
  const int64_t barrier_;
  std::atomic<int> inside_{0};
  std::atomic<int> overlaps_{0};
  std::mutex mu_;
  std::vector<Section> sections_;  // guarded by mu_
  int errors_ = 0;                 // guarded by mu_
};

int Contend(const atomix::ClientOptions& options, const std::string& name, int threads,
            int iterations, int64_t barrier) {
  Contention contention(options, name, iterations, barrier);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&contention, t] { contention.RunThread(t); });
  }
  for (auto& t : running) t.join();
  contention.Print();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: %s ENDPOINT[,ENDPOINT...] TTL_MS lock NAME | elect NAME ID |"
                 " contend NAME THREADS ITERATIONS BARRIER | watch-election NAME\n",
                 argv[0]);
    return 2;
  }
  if (std::string(argv[3]) == "default-lock" && argc >= 6) {
    setenv("ATOMIX_BROKER", argv[1], 1);
    return DefaultLock(argv[4], argv[5]);
  }
  atomix::ClientOptions options;
  options.endpoints = absl::StrSplit(argv[1], ',');
  options.session_ttl = milliseconds(std::atoll(argv[2]));
  options.connect_timeout = seconds(10);
  const std::string mode = argv[3];
  if (mode == "contend") {
    if (argc < 8) return 2;
    const int threads = std::atoi(argv[5]);
    const int iterations = std::atoi(argv[6]);
    const int64_t barrier = std::atoll(argv[7]);
    if (threads < 1 || iterations < 1 || barrier < 1) return 2;
    return Contend(options, argv[4], threads, iterations, barrier);
  }
  auto client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", client.status().ToString().c_str());
    return 1;
  }
  if (mode == "lock") return Lock(*client, argv[4]);
  if (mode == "elect" && argc >= 6) return Elect(*client, argv[4], argv[5]);
  if (mode == "watch-election") return WatchElection(*client, argv[4]);
  return 2;
}
