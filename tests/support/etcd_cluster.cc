#include "tests/support/etcd_cluster.h"

#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker-sim/src/etcd/etcd_client.h"
#include "tests/support/process.h"

namespace atomix::testing {

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(
    int members, std::vector<std::string> extra_args) {
  std::unique_ptr<EtcdCluster> cluster(new EtcdCluster());
  cluster->extra_args_ = std::move(extra_args);
  cluster->dir_ = MakeTempDir("atomix-etcd");
  cluster->token_ = std::filesystem::path(cluster->dir_).filename().string();
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = absl::StrCat("m", i);
    m.client_port = FreePort();
    m.peer_port = FreePort();
    cluster->members_.push_back(m);
  }
  for (int i = 0; i < members; ++i) {
    if (absl::Status s = cluster->Launch(i, true); !s.ok()) return s;
  }
  for (int i = 0; i < members; ++i) {
    absl::Status s = cluster->WaitServing(i, std::chrono::seconds(30));
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat(s.message(), "; its log: ", cluster->Log(i)));
    }
  }
  return cluster;
}

EtcdCluster::~EtcdCluster() {
  for (Member& m : members_) {
    if (m.pid > 0) KillAndReap(m.pid, SIGKILL);
    m.pid = -1;
  }
  std::error_code ignored;
  if (!dir_.empty() && dir_ != "/tmp") std::filesystem::remove_all(dir_, ignored);
}

std::string EtcdCluster::endpoint(int i) const {
  return absl::StrCat("127.0.0.1:", members_[i].client_port);
}

std::string EtcdCluster::endpoints() const {
  std::vector<std::string> all;
  for (int i = 0; i < size(); ++i) all.push_back(endpoint(i));
  return absl::StrJoin(all, ",");
}

std::string EtcdCluster::Log(int i) const {
  return ReadFile(absl::StrCat(dir_, "/", members_[i].name, ".log"));
}

absl::Status EtcdCluster::Launch(int i, bool fresh) {
  const Member& m = members_[i];
  std::vector<std::string> peers;
  for (const Member& p : members_) {
    peers.push_back(absl::StrCat(p.name, "=http://127.0.0.1:", p.peer_port));
  }
  const std::string client = absl::StrCat("http://127.0.0.1:", m.client_port);
  const std::string peer = absl::StrCat("http://127.0.0.1:", m.peer_port);
  std::vector<std::string> argv = {
      ATOMIX_ETCD_BIN, "--name", m.name, "--data-dir", absl::StrCat(dir_, "/", m.name),
      "--listen-client-urls", client, "--advertise-client-urls", client,
      "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
      "--initial-cluster", absl::StrJoin(peers, ","),
      "--initial-cluster-state", fresh ? "new" : "existing",
      "--initial-cluster-token", token_,
      // Fast elections on loopback, so failures are handled in test time.
      "--heartbeat-interval", "50", "--election-timeout", "500",
      "--log-level", "warn", "--logger", "zap"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  absl::StatusOr<pid_t> pid =
      Spawn(argv, absl::StrCat(dir_, "/", m.name, ".log"));
  if (!pid.ok()) return pid.status();
  members_[i].pid = *pid;
  return absl::OkStatus();
}

void EtcdCluster::Kill(int i, int sig) {
  if (members_[i].pid <= 0) return;
  if (sig == SIGSTOP || sig == SIGCONT) {
    kill(members_[i].pid, sig);
    return;
  }
  KillAndReap(members_[i].pid, sig);
  members_[i].pid = -1;
}

absl::Status EtcdCluster::Restart(int i) {
  if (members_[i].pid > 0) Kill(i, SIGKILL);
  return Launch(i, false);
}

absl::Status EtcdCluster::WaitServing(int i, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  absl::Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (members_[i].pid > 0 && waitpid(members_[i].pid, &status, WNOHANG) == members_[i].pid) {
      members_[i].pid = -1;
      return absl::InternalError(
          absl::StrCat("etcd member ", i, " exited with ", ExitCode(status)));
    }
    // A new channel each time: an old one may be in reconnect backoff.
    atomix::broker::EtcdClient client({endpoint(i)});
    etcdserverpb::RangeRequest request;
    request.set_key("health");
    absl::StatusOr<etcdserverpb::RangeResponse> r =
        client.Range(request, absl::Milliseconds(500));
    if (r.ok()) return absl::OkStatus();
    last = r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("etcd member ", i, " did not serve in time: ", last.message()));
}

}  // namespace atomix::testing
