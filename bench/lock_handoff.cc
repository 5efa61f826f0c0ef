#include "bench/lock_handoff.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "atomix/atomix.h"
#include "bench/child_process.h"

namespace atomix::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kLockName[] = "bench-handoff";

// What the processes share, in a mapped file.
struct Shared {
  std::atomic<int64_t> release_ns;  // When the holder started releasing.
  std::atomic<int64_t> releaser;    // Which contender that was (-1: none).
  std::atomic<int32_t> ready;       // Contenders connected.
  std::atomic<int32_t> measuring;
  std::atomic<int32_t> stop;
};
static_assert(std::atomic<int64_t>::is_always_lock_free);

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<Shared*> Map(const std::string& path, bool create) {
  const int fd = open(path.c_str(), create ? O_RDWR | O_CREAT | O_TRUNC : O_RDWR, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", strerror(errno)));
  if (create && ftruncate(fd, sizeof(Shared)) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("ftruncate ", path, ": ", strerror(errno)));
  }
  void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return absl::InternalError(absl::StrCat("mmap: ", strerror(errno)));
  auto* shared = static_cast<Shared*>(p);
  if (create) {
    shared->release_ns = 0;
    shared->releaser = -1;
    shared->ready = 0;
    shared->measuring = 0;
    shared->stop = 0;
  }
  return shared;
}

}  // namespace

int RunHandoffChild(const ClientOptions& options, const std::string& path, int first,
                    int contenders) {
  absl::StatusOr<Shared*> shared = Map(path, /*create=*/false);
  if (!shared.ok()) {
    std::fprintf(stderr, "atomix-bench: %s\n", shared.status().ToString().c_str());
    return 1;
  }
  Shared& s = **shared;
  std::vector<std::vector<int64_t>> samples(static_cast<size_t>(contenders));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < contenders; ++c) {
    threads.emplace_back([&, c] {
      const int64_t me = first + c;
      auto client = Client::Connect(options);
      auto lock = client.ok() ? GetLock(*client, kLockName) : absl::StatusOr<Lock>(client.status());
      if (!lock.ok()) {
        std::fprintf(stderr, "atomix-bench: contender %lld: %s\n", static_cast<long long>(me),
                     lock.status().ToString().c_str());
        ++failures;
        ++s.ready;
        return;
      }
      ++s.ready;
      std::vector<int64_t>& mine = samples[static_cast<size_t>(c)];
      while (s.stop.load() == 0) {
        auto fence = lock->Acquire(WithTimeout(std::chrono::seconds(30)));
        const int64_t granted = NowNs();
        if (!fence.ok()) {
          ++failures;
          break;
        }
        const int64_t from = s.releaser.load();
        if (from >= 0 && from != me && s.measuring.load() != 0) {
          mine.push_back(granted - s.release_ns.load());
        }
        s.releaser.store(me);
        s.release_ns.store(NowNs());
        if (!lock->Release(IfVersion(*fence)).ok()) {
          ++failures;
          break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::ofstream out(absl::StrCat(path, ".", first));
  for (const auto& v : samples) {
    for (int64_t ns : v) out << ns << "\n";
  }
  return failures.load() == 0 && out.good() ? 0 : 1;
}

absl::StatusOr<Result> RunLockHandoff(const std::string& broker, const HandoffOptions& o) {
  if (o.processes < 2 || o.callers < o.processes) {
    return absl::InvalidArgumentError("lock-handoff needs --processes >= 2 and --callers >= it");
  }
  char dir[] = "/tmp/atomix-handoff-XXXXXX";
  if (mkdtemp(dir) == nullptr) return absl::InternalError("mkdtemp failed");
  const std::string path = absl::StrCat(dir, "/shared");
  absl::StatusOr<Shared*> shared = Map(path, /*create=*/true);
  if (!shared.ok()) return shared.status();
  Shared& s = **shared;

  std::vector<pid_t> children;
  std::vector<int> firsts;
  int first = 0;
  for (int p = 0; p < o.processes; ++p) {
    const int n = o.callers / o.processes + (p < o.callers % o.processes ? 1 : 0);
    auto pid = SpawnSelf({"--broker", broker, "--handoff-child", path, "--handoff-first",
                          std::to_string(first), "--callers", std::to_string(n)});
    if (!pid.ok()) {
      s.stop = 1;
      return pid.status();
    }
    children.push_back(*pid);
    firsts.push_back(first);
    first += n;
  }
  const auto connect_deadline = Clock::now() + std::chrono::seconds(30);
  while (s.ready.load() < o.callers && Clock::now() < connect_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup_s));
  const auto start = Clock::now();
  s.measuring = 1;
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration_s));
  s.measuring = 0;
  const auto end = Clock::now();
  s.stop = 1;

  bool ok = true;
  for (pid_t pid : children) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ok = false;
    }
  }
  std::vector<int64_t> all;
  for (int f : firsts) {
    const std::string file = absl::StrCat(path, ".", f);
    std::ifstream in(file);
    for (int64_t ns; in >> ns;) all.push_back(ns);
    unlink(file.c_str());
  }
  munmap(&s, sizeof(Shared));
  unlink(path.c_str());
  rmdir(dir);
  if (!ok) return absl::InternalError("a lock-handoff contender failed (see its messages above)");

  Result r;
  r.ops = static_cast<int64_t>(all.size());
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.ops_per_sec = static_cast<double>(r.ops) / r.seconds;
  FillLatencies(all, r);
  return r;
}

}  // namespace atomix::bench
