#include "bench/failover.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "atomix/atomix.h"
#include "bench/child_process.h"

namespace atomix::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kLeaderId[] = "leader";
constexpr char kFollowerId[] = "follower";

// A child atomix-bench running RunLeader, with its standard output on a pipe.
// Killed with SIGKILL (and reaped) when destroyed, or when this process dies.
class LeaderProcess {
 public:
  static absl::StatusOr<std::unique_ptr<LeaderProcess>> Start(const std::string& broker,
                                                              const std::string& election,
                                                              milliseconds ttl) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
    }
    absl::StatusOr<pid_t> pid = SpawnSelf(
        {"--broker", broker, "--lead", election, "--ttl-ms", std::to_string(ttl.count())}, fds[1]);
    if (!pid.ok()) {
      close(fds[0]);
      close(fds[1]);
      return pid.status();
    }
    close(fds[1]);
    return std::unique_ptr<LeaderProcess>(new LeaderProcess(*pid, fds[0]));
  }

  ~LeaderProcess() {
    Kill();
    close(out_);
  }

  // The first line the child prints, without the newline.
  absl::StatusOr<std::string> ReadLine(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string line;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return absl::DeadlineExceededError("the leader printed nothing");
      pollfd p{out_, POLLIN, 0};
      const int r = poll(&p, 1, static_cast<int>(left.count()));
      if (r <= 0) continue;
      char c;
      const ssize_t n = read(out_, &c, 1);
      if (n <= 0) return absl::UnavailableError("the leader exited before printing its term");
      if (c == '\n') return line;
      line.push_back(c);
    }
  }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

 private:
  LeaderProcess(pid_t pid, int out) : pid_(pid), out_(out) {}
  pid_t pid_;
  int out_;
};

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// One kill of a leader with session TTL `ttl`; returns the failover time.
absl::StatusOr<double> MeasureOnce(const Client& follower_client, const std::string& election,
                                   milliseconds ttl, milliseconds poll, std::mt19937& rng) {
  const std::string broker = follower_client.options().endpoints.front();
  auto leader = LeaderProcess::Start(broker, election, ttl);
  if (!leader.ok()) return leader.status();
  auto line = (*leader)->ReadLine(milliseconds(15000));
  if (!line.ok()) return line.status();
  if (!line->ends_with(absl::StrCat(" leader ", kLeaderId))) {
    return absl::InternalError(absl::StrCat("the child did not lead: \"", *line, "\""));
  }

  auto follower = GetElection(follower_client, election, WithCandidateID(kFollowerId));
  if (!follower.ok()) return follower.status();
  auto entered = follower->Enter();
  if (!entered.ok()) return entered.status();
  if (entered->leader != kLeaderId) {
    return absl::InternalError(absl::StrCat("leader is \"", entered->leader, "\", not the child"));
  }

  // Kill at a random point of the leader's keep-alive cycle (ttl / 3).
  std::uniform_int_distribution<int64_t> phase(0, ttl.count() / 3);
  std::this_thread::sleep_for(milliseconds(phase(rng)));

  const auto killed_at = Clock::now();
  (*leader)->Kill();
  const auto give_up = killed_at + ttl + milliseconds(5000);
  for (;;) {
    auto term = follower->GetTerm();
    const auto answered_at = Clock::now();
    if (!term.ok()) return term.status();
    if (term->leader == kFollowerId) {
      auto left = follower->Leave();
      if (!left.ok()) return left.status();
      return Millis(answered_at - killed_at);
    }
    if (answered_at > give_up) {
      return absl::DeadlineExceededError(absl::StrCat("no failover within ",
                                                      Millis(give_up - killed_at),
                                                      " ms; leader is \"", term->leader, "\""));
    }
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace

absl::StatusOr<std::vector<FailoverResult>> RunElectionFailover(const ClientOptions& client_options,
                                                                const FailoverOptions& options) {
  std::mt19937 rng(std::random_device{}());
  std::vector<FailoverResult> results;
  for (milliseconds ttl : options.ttls) {
    ClientOptions o = client_options;
    o.session_ttl = ttl;
    auto client = Client::Connect(o);
    if (!client.ok()) return client.status();
    FailoverResult r;
    r.ttl = ttl;
    for (int i = 0; i < options.repeat; ++i) {
      // A fresh election per kill, so that nothing of the last one remains.
      const std::string election =
          absl::StrCat("bench-failover-", getpid(), "-", ttl.count(), "-", i);
      auto ms = MeasureOnce(*client, election, ttl, options.poll, rng);
      if (!ms.ok()) {
        return absl::Status(ms.status().code(), absl::StrCat("TTL ", ttl.count(), " ms, run ",
                                                             i + 1, ": ", ms.status().message()));
      }
      r.samples_ms.push_back(*ms);
    }
    std::vector<double> sorted = r.samples_ms;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    if (n > 0) {
      r.min_ms = sorted.front();
      r.max_ms = sorted.back();
      r.median_ms = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
    results.push_back(std::move(r));
  }
  return results;
}

int RunLeader(ClientOptions client_options, const std::string& election, milliseconds ttl) {
  client_options.session_ttl = ttl;
  auto client = Client::Connect(client_options);
  if (!client.ok()) {
    std::fprintf(stderr, "atomix-bench --lead: %s\n", client.status().ToString().c_str());
    return 1;
  }
  auto e = GetElection(*client, election, WithCandidateID(kLeaderId));
  if (!e.ok()) {
    std::fprintf(stderr, "atomix-bench --lead: %s\n", e.status().ToString().c_str());
    return 1;
  }
  auto term = e->Enter();
  if (!term.ok()) {
    std::fprintf(stderr, "atomix-bench --lead: %s\n", term.status().ToString().c_str());
    return 1;
  }
  std::printf("term %lld leader %s\n", static_cast<long long>(term->term), term->leader.c_str());
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));
}

}  // namespace atomix::bench
