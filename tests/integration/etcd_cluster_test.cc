// Several brokers over one real etcd cluster (3 members of Debian's
// etcd-server on loopback, tests/support/etcd_cluster.h), sharing one log:
// state, sessions, fences and watches are the same through every broker,
// and clients fail over between brokers with nothing acknowledged lost.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atomix/v1/admin.grpc.pb.h"
#include "broker-sim/src/etcd/etcd_client.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/mixed_load.h"
#include "tests/support/process.h"
#include "tests/support/test_client.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr int kBrokers = 3;

class EtcdClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto etcd = EtcdCluster::Start(3);
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = std::move(*etcd);
    prefix_ = absl::StrCat("/atomix/", FreePort(), "/");
    for (int i = 0; i < kBrokers; ++i) {
      auto b = BrokerProcess::Start(BrokerOptions());
      ASSERT_TRUE(b.ok()) << b.status();
      brokers_.push_back(std::move(*b));
    }
  }

  BrokerProcess::Options BrokerOptions() {
    BrokerProcess::Options o;
    o.args = {"--store", "etcd", "--etcd-endpoints", etcd_->endpoints(),
              "--etcd-prefix", prefix_, "--etcd-ticker-ttl-ms", "1000",
              "--etcd-timeout-ms", "3000"};
    return o;
  }

  // A client that prefers broker `first`, then the others in order.
  ClientOptions ClientFor(int first) {
    ClientOptions o;
    for (int i = 0; i < kBrokers; ++i) {
      o.endpoints.push_back(brokers_[(first + i) % kBrokers]->endpoint());
    }
    o.connect_timeout = seconds(10);
    o.default_call_timeout = seconds(10);
    o.session_ttl = seconds(10);
    return o;
  }
  Client Connect(int first) {
    auto c = Client::Connect(ClientFor(first));
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }

  // Admin.Status of broker i.
  absl::StatusOr<v1::StatusResponse> Status(int i) {
    auto channel = grpc::CreateChannel(brokers_[i]->endpoint(), grpc::InsecureChannelCredentials());
    auto stub = v1::Admin::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(2));
    v1::StatusResponse out;
    grpc::Status s = stub->Status(&context, v1::StatusRequest(), &out);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    return out;
  }
  // The broker that is the ticker (waits for one), or -1.
  int Ticker() {
    const auto deadline = steady_clock::now() + seconds(15);
    while (steady_clock::now() < deadline) {
      for (int i = 0; i < kBrokers; ++i) {
        if (!brokers_[i]->running()) continue;
        auto s = Status(i);
        if (s.ok() && s->cluster().ticker()) return i;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return -1;
  }

  std::unique_ptr<EtcdCluster> etcd_;
  std::string prefix_;
  std::vector<std::unique_ptr<BrokerProcess>> brokers_;
};

TEST_F(EtcdClusterTest, EveryBrokerServesTheSameStateAndSessions) {
  Client a = Connect(0);
  Client b = Connect(1);
  Client c = Connect(2);
  // One cluster: every broker reports its id.
  EXPECT_EQ(a.broker_id(), b.broker_id());
  EXPECT_EQ(a.broker_id(), c.broker_id());

  auto ca = GetCounter(a, "jobs");
  auto cb = GetCounter(b, "jobs");
  ASSERT_TRUE(ca.ok() && cb.ok());
  for (int i = 1; i <= 20; ++i) {
    auto v = (i % 2 ? ca : cb)->Increment();
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->value, i);
  }
  // A read through a broker that applied nothing itself sees every write.
  auto seen = GetCounter(c, "jobs")->Get();
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, 20);

  // Fences: a lock held through broker 0 blocks broker 1's client, which
  // gets a higher fence once it is released.
  auto la = GetLock(a, "door");
  auto lb = GetLock(b, "door");
  ASSERT_TRUE(la.ok() && lb.ok());
  auto first = la->Acquire();
  ASSERT_TRUE(first.ok()) << first.status();
  auto busy = lb->TryAcquire();
  ASSERT_TRUE(busy.ok()) << busy.status();
  EXPECT_FALSE(busy->has_value());
  std::thread release([&] {
    std::this_thread::sleep_for(milliseconds(200));
    EXPECT_TRUE(la->Release(IfVersion(*first)).ok());
  });
  auto second = lb->Acquire(WithTimeout(seconds(10)));
  release.join();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT(second->version, first->version);

  // Every broker has applied the same log: the same revision.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s0 = Status(0), s1 = Status(1), s2 = Status(2);
        return s0.ok() && s1.ok() && s2.ok() && s0->revision() == s1->revision() &&
               s1->revision() == s2->revision();
      },
      seconds(5)));
  int tickers = 0;
  for (int i = 0; i < kBrokers; ++i) {
    auto s = Status(i);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->store(), "etcd");
    EXPECT_TRUE(s->serving()) << s->problem();
    EXPECT_EQ(s->cluster().reachable_size(), 3);
    tickers += s->cluster().ticker();
  }
  EXPECT_EQ(tickers, 1);
}

TEST_F(EtcdClusterTest, BrokerAndEtcdMemberKillsLoseNothingAcknowledged) {
  std::vector<Client> clients;
  for (int i = 0; i < kBrokers; ++i) clients.push_back(Connect(i));
  MixedLoad load(clients, 8);
  Client reader = Connect(2);
  auto hits = GetCounter(reader, "hits");
  ASSERT_TRUE(hits.ok());

  // Waits until the load made `n` more acknowledged operations.
  auto progress = [&](int64_t n) {
    const int64_t target = load.acked() + n;
    EXPECT_TRUE(WaitUntil([&] { return load.acked() >= target; }, seconds(30)));
  };
  progress(200);
  for (int round = 0; round < 2; ++round) {
    // SIGKILL a broker: its clients move to another and carry on. The
    // failover time: until a client that was on it has 10 more operations
    // acknowledged.
    const int victim = round;
    const int64_t acked_before = load.max_acked();
    const int64_t victims_before = load.acked(victim);
    const auto killed = steady_clock::now();
    brokers_[victim]->Kill(SIGKILL);
    EXPECT_TRUE(WaitUntil([&] { return load.acked(victim) >= victims_before + 10; }, seconds(30)));
    const auto failover = std::chrono::duration_cast<milliseconds>(steady_clock::now() - killed);
    std::printf("broker %d killed: its clients' next 10 operations acknowledged after %lld ms\n",
                victim, static_cast<long long>(failover.count()));
    EXPECT_LT(failover, seconds(10));
    auto value = hits->Get(WithTimeout(seconds(10)));
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_GE(*value, acked_before);
    ASSERT_TRUE(brokers_[victim]->Restart().ok());
  }
  // SIGKILL one etcd member: two of three keep the quorum.
  etcd_->Kill(1, SIGKILL);
  progress(500);
  ASSERT_TRUE(etcd_->Restart(1).ok());
  ASSERT_TRUE(etcd_->WaitServing(1, seconds(30)).ok()) << etcd_->Log(1);
  progress(200);
  load.Check(reader);
}

}  // namespace
}  // namespace atomix::testing
