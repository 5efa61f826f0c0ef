// EtcdCluster: a real etcd cluster (Debian's etcd-server) of N members on
// loopback ports, with data dirs in a temp dir, for tests of the etcd
// store. Members can be killed, stopped and restarted on the same ports
// and data.
//
//   auto etcd = atomix::testing::EtcdCluster::Start(3);
//   ASSERT_TRUE(etcd.ok()) << etcd.status();
//   args = {"--store", "etcd", "--etcd-endpoints", (*etcd)->endpoints()};
//
// Thread-safety: one thread drives an EtcdCluster.
#ifndef ATOMIX_TESTS_SUPPORT_ETCD_CLUSTER_H_
#define ATOMIX_TESTS_SUPPORT_ETCD_CLUSTER_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace atomix::testing {

class EtcdCluster {
 public:
  // Starts `members` members, each with `extra_args` (etcd flags), and
  // waits until each answers a linearizable read.
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> Start(
      int members, std::vector<std::string> extra_args = {});
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  // "127.0.0.1:<client port>" of member i, and all of them joined by ','.
  std::string endpoint(int i) const;
  std::string endpoints() const;
  bool running(int i) const { return members_[i].pid > 0; }

  // Sends `sig` to member i and reaps it.
  void Kill(int i, int sig);
  // Starts member i again with its data and ports.
  absl::Status Restart(int i);
  // Waits until member i answers a linearizable read.
  absl::Status WaitServing(int i, std::chrono::milliseconds timeout);
  // The log of member i.
  std::string Log(int i) const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    pid_t pid = -1;
  };
  EtcdCluster() = default;
  absl::Status Launch(int i, bool fresh);

  std::string dir_;
  std::string token_;
  std::vector<std::string> extra_args_;
  std::vector<Member> members_;
};

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_ETCD_CLUSTER_H_
