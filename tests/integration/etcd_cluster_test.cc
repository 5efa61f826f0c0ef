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
#include "absl/strings/str_join.h"
#include "atomix/log/v1/etcd.pb.h"
#include "atomix/v1/admin.grpc.pb.h"
#include "broker-sim/src/etcd/etcd_store.h"
#include "broker-sim/src/etcd/etcd_client.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/client_process.h"
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
              "--etcd-timeout-ms", "3000",
              // Snapshots and log truncation run in every test.
              "--etcd-snapshot-entries", "200"};
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
  absl::StatusOr<v1::StatusResponse> Status(int i) { return Status(brokers_[i]->endpoint()); }
  absl::StatusOr<v1::StatusResponse> Status(const std::string& endpoint) {
    auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
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
  for (int i = 0; i < kBrokers; ++i) {
    auto s = Status(i);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->store(), "etcd");
    EXPECT_TRUE(s->serving()) << s->problem();
    // Every broker reaches all three members. A member the broker has not
    // talked to yet is still connecting when it is first asked about.
    int reachable = 0;
    EXPECT_TRUE(WaitUntil(
        [&] {
          s = Status(i);
          reachable = s.ok() ? s->cluster().reachable_size() : -1;
          return reachable == 3;
        },
        seconds(10)))
        << "broker " << i << " reaches " << reachable << " of 3 etcd members";
  }
  // One ticker. A deposed ticker learns it lost its lease only when its
  // next renewal fails (its ticks are fenced out meanwhile), so on a loaded
  // machine two brokers may both report ticking for a moment.
  int tickers = 0;
  EXPECT_TRUE(WaitUntil(
      [&] {
        tickers = 0;
        for (int i = 0; i < kBrokers; ++i) {
          auto s = Status(i);
          if (s.ok()) tickers += s->cluster().ticker();
        }
        return tickers == 1;
      },
      seconds(10)))
      << tickers << " brokers report ticking";
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
  progress(1000);
  for (int round = 0; round < 2; ++round) {
    // SIGKILL a broker (first one that is not the ticker, then the
    // ticker): its clients move to another and carry on. The failover
    // time: until a client that was on it has 10 more operations
    // acknowledged.
    const int ticker = Ticker();
    ASSERT_GE(ticker, 0);
    const int victim = round == 0 ? (ticker + 1) % kBrokers : ticker;
    const int64_t acked_before = load.max_acked();
    const int64_t victims_before = load.acked(victim);
    const auto killed = steady_clock::now();
    brokers_[victim]->Kill(SIGKILL);
    EXPECT_TRUE(WaitUntil([&] { return load.acked(victim) >= victims_before + 10; }, seconds(30)));
    const auto failover = std::chrono::duration_cast<milliseconds>(steady_clock::now() - killed);
    std::printf("broker %d (%s) killed: its clients' next 10 operations acknowledged after "
                "%lld ms\n",
                victim, victim == ticker ? "the ticker" : "not the ticker",
                static_cast<long long>(failover.count()));
    EXPECT_LT(failover, seconds(10));
    auto value = hits->Get(WithTimeout(seconds(10)));
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_GE(*value, acked_before);
    ASSERT_TRUE(brokers_[victim]->Restart().ok());
  }
  // SIGKILL one etcd member: two of three keep the quorum.
  etcd_->Kill(1, SIGKILL);
  progress(1500);
  ASSERT_TRUE(etcd_->Restart(1).ok());
  ASSERT_TRUE(etcd_->WaitServing(1, seconds(30)).ok()) << etcd_->Log(1);
  progress(1000);
  load.Check(reader);
}

TEST_F(EtcdClusterTest, TickerKillHandsTimeOverAndDeadClientsLocksAfterTheirTtl) {
  const int ticker = Ticker();
  ASSERT_GE(ticker, 0);
  const int other = (ticker + 1) % kBrokers;
  // A client process holds a lock (2 s TTL) through a broker that is not
  // the ticker; a live client keeps its session through another.
  auto holder = ClientProcess::Start(
      {absl::StrCat(brokers_[other]->endpoint(), ",", brokers_[(ticker + 2) % kBrokers]->endpoint()),
       "2000", "lock", "door"});
  ASSERT_TRUE(holder.ok()) << holder.status();
  auto line = (*holder)->ReadLine(seconds(10));
  ASSERT_TRUE(line.ok() && line->rfind("fence ", 0) == 0) << line.status();
  const int64_t held = std::stoll(line->substr(6));
  Client live = Connect((ticker + 2) % kBrokers);
  const uint64_t session = live.session_id();
  auto jobs = GetCounter(live, "jobs");
  ASSERT_TRUE(jobs.ok());

  // The ticker dies: another broker takes over within its lease (1 s).
  const auto killed = steady_clock::now();
  brokers_[ticker]->Kill(SIGKILL);
  int next = -1;
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (int i = 0; i < kBrokers; ++i) {
          if (i == ticker) continue;
          auto s = Status(i);
          if (s.ok() && s->cluster().ticker()) next = i;
        }
        return next >= 0;
      },
      seconds(10)));
  std::printf("ticker %d killed: broker %d took over after %lld ms\n", ticker, next,
              static_cast<long long>(
                  std::chrono::duration_cast<milliseconds>(steady_clock::now() - killed).count()));

  // The holder dies too: its lock is handed over once its TTL passes in
  // the log's time, to a waiter on another broker, with a higher fence.
  (*holder)->Kill(SIGKILL);
  auto waiter = GetLock(live, "door");
  ASSERT_TRUE(waiter.ok());
  const auto asked = steady_clock::now();
  auto fence = waiter->Acquire(WithTimeout(seconds(15)));
  ASSERT_TRUE(fence.ok()) << fence.status();
  EXPECT_GT(fence->version, held);
  EXPECT_GE(steady_clock::now() - asked, milliseconds(500));  // not before its TTL

  // The live client kept its session all along (keep-alives through a
  // surviving broker), across 3 s without the old ticker.
  std::this_thread::sleep_for(seconds(3));
  EXPECT_EQ(live.session_id(), session);
  auto v = jobs->Increment();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->value, 1);
}

TEST_F(EtcdClusterTest, QuorumLossFailsCallsInTimeAndServiceResumesWithState) {
  Client client = Connect(0);
  auto jobs = GetCounter(client, "jobs");
  ASSERT_TRUE(jobs.ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(jobs->Increment().ok());

  // Two of three members stop: no quorum. Writes and linearizable reads
  // fail within their deadline, naming the cause.
  etcd_->Kill(1, SIGKILL);
  etcd_->Kill(2, SIGKILL);
  for (int i = 0; i < 3; ++i) {
    const auto start = steady_clock::now();
    auto w = jobs->Increment(1, WithTimeout(seconds(2)));
    const auto took = steady_clock::now() - start;
    EXPECT_FALSE(w.ok());
    EXPECT_LT(took, milliseconds(2500));
    auto r = jobs->Get(WithTimeout(seconds(2)));
    EXPECT_FALSE(r.ok());
    if (!r.ok()) {
      EXPECT_TRUE(absl::IsUnavailable(r.status()) || absl::IsDeadlineExceeded(r.status()))
          << r.status();
    }
  }
  // The brokers say why they do not serve.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s = Status(0);
        return s.ok() && !s->serving() && !s->problem().empty();
      },
      seconds(10)));

  // The members return: service resumes with nothing lost (an increment of
  // unknown outcome may have been applied).
  ASSERT_TRUE(etcd_->Restart(1).ok());
  ASSERT_TRUE(etcd_->Restart(2).ok());
  ASSERT_TRUE(etcd_->WaitServing(1, seconds(30)).ok()) << etcd_->Log(1);
  absl::StatusOr<Versioned<int64_t>> after = absl::UnavailableError("not yet");
  ASSERT_TRUE(WaitUntil(
      [&] {
        after = jobs->Increment(1, WithTimeout(seconds(2)));
        return after.ok();
      },
      seconds(30)))
      << after.status();
  EXPECT_GE(after->value, 11);
  EXPECT_LE(after->value, 14);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s = Status(0);
        return s.ok() && s->serving();
      },
      seconds(10)));
}

TEST_F(EtcdClusterTest, StoppedBrokerCatchesUpAndNeverAnswersFromStaleState) {
  const int ticker = Ticker();
  ASSERT_GE(ticker, 0);
  const int paused = (ticker + 1) % kBrokers;
  const int other = (ticker + 2) % kBrokers;
  Client writer = Connect(other);
  auto jobs = GetCounter(writer, "jobs");
  ASSERT_TRUE(jobs.ok());
  ASSERT_TRUE(jobs->Increment().ok());
  auto before = Status(paused);
  ASSERT_TRUE(before.ok());
  // A broker stops for longer than a 2 s session TTL while the others
  // write, so much that the log it has not applied is truncated behind two
  // snapshots (one every 200 entries here).
  ::kill(brokers_[paused]->pid(), SIGSTOP);
  int64_t last = 0;
  const auto until = steady_clock::now() + milliseconds(3000);
  while (steady_clock::now() < until || last < 1000) {
    auto v = jobs->Increment();
    ASSERT_TRUE(v.ok()) << v.status();
    last = v->value;
  }
  atomix::broker::EtcdClient etcd({etcd_->endpoint(0)});
  etcdserverpb::RangeRequest get;
  get.set_key(prefix_ + "snapshot");
  atomix::log::v1::SnapshotMeta meta;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto r = etcd.Range(get, absl::Seconds(2));
        return r.ok() && r->kvs_size() == 1 && meta.ParseFromString(r->kvs(0).value()) &&
               meta.truncated() > before->cluster().applied_etcd_revision();
      },
      seconds(10)))
      << "the log was not truncated past the paused broker";
  ::kill(brokers_[paused]->pid(), SIGCONT);
  // It starts over from the snapshot; its first answer already includes
  // every write before it.
  ClientOptions only = ClientFor(paused);
  only.endpoints.resize(1);
  only.session_ttl = seconds(2);
  auto reader = Client::Connect(only);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto seen = GetCounter(*reader, "jobs")->Get();
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_GE(*seen, last);
  auto next = GetCounter(*reader, "jobs")->Increment();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->value, *seen + 1);
  auto after = Status(paused);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->serving()) << after->problem();
}

TEST_F(EtcdClusterTest, WatcherKeepsEveryEventWhenItsBrokerDies) {
  Client watcher_client = Connect(0);
  Client writer_client = Connect(1);
  auto watched = GetMap<std::string, int64_t>(watcher_client, "m");
  auto written = GetMap<std::string, int64_t>(writer_client, "m");
  ASSERT_TRUE(watched.ok() && written.ok());
  auto channel = watched->Watch();
  ASSERT_TRUE(channel.ok()) << channel.status();
  constexpr int kWrites = 300;
  std::vector<Version> versions;
  for (int i = 0; i < kWrites; ++i) {
    if (i == kWrites / 2) brokers_[0]->Kill(SIGKILL);
    auto v = written->Put(absl::StrCat("k", i % 7), i);
    ASSERT_TRUE(v.ok()) << v.status();
    versions.push_back(*v);
  }
  std::vector<Version> seen;
  int resyncs = 0;
  const auto deadline = steady_clock::now() + seconds(30);
  while (seen.size() < versions.size() && steady_clock::now() < deadline) {
    auto e = channel->TryReceive();
    if (!e) {
      std::this_thread::sleep_for(milliseconds(5));
      continue;
    }
    if (e->type == EventType::kResync) {
      ++resyncs;
      continue;
    }
    seen.push_back(e->revision);
  }
  EXPECT_EQ(resyncs, 0);
  EXPECT_EQ(seen, versions);
}

TEST_F(EtcdClusterTest, SnapshotsBoundTheLogAndNewBrokersStartFromThem) {
  Client client = Connect(0);
  auto jobs = GetCounter(client, "jobs");
  ASSERT_TRUE(jobs.ok());
  constexpr int kWrites = 1500;
  for (int i = 1; i <= kWrites; ++i) {
    auto v = jobs->Increment();
    ASSERT_TRUE(v.ok()) << v.status();
    ASSERT_EQ(v->value, i);
  }
  // Entries behind the previous snapshot are gone: far fewer log keys than
  // entries written (each increment was at least one entry).
  atomix::broker::EtcdClient etcd({etcd_->endpoint(0)});
  const std::string log_prefix = prefix_ + "log/";
  etcdserverpb::RangeRequest count;
  count.set_key(log_prefix);
  count.set_range_end(atomix::broker::PrefixEnd(log_prefix));
  count.set_count_only(true);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto r = etcd.Range(count, absl::Seconds(2));
        return r.ok() && r->count() < 800;
      },
      seconds(10)));
  // etcd was compacted too: the first revisions are gone.
  etcdserverpb::RangeRequest old;
  old.set_key(log_prefix);
  old.set_revision(2);
  auto compacted = etcd.Range(old, absl::Seconds(2));
  EXPECT_TRUE(absl::IsOutOfRange(compacted.status())) << compacted.status();

  // A new broker starts from the snapshot plus the log since, and every
  // broker restarted from etcd alone has the same state.
  auto fresh = BrokerProcess::Start(BrokerOptions());
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ClientOptions o = ClientFor(0);
  o.endpoints = {(*fresh)->endpoint()};
  auto late = Client::Connect(o);
  ASSERT_TRUE(late.ok()) << late.status();
  auto seen = GetCounter(*late, "jobs")->Get();
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(*seen, kWrites);
  auto more = GetCounter(*late, "jobs")->Increment();
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(more->value, kWrites + 1);
  for (auto& b : brokers_) ASSERT_TRUE(b->Restart().ok());
  auto after = jobs->Get(WithTimeout(seconds(10)));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, kWrites + 1);
}

TEST_F(EtcdClusterTest, EntryOfANewerFormatStopsTheBrokersInsteadOfDiverging) {
  Client client = Connect(0);
  auto jobs = GetCounter(client, "jobs");
  ASSERT_TRUE(jobs.ok());
  ASSERT_TRUE(jobs->Increment().ok());
  // A broker of a future version appended an entry these cannot read.
  atomix::log::v1::LogEntry future;
  future.set_format(atomix::broker::kEtcdLogFormat + 1);
  future.set_writer("future");
  atomix::broker::EtcdClient etcd({etcd_->endpoint(0)});
  etcdserverpb::TxnRequest txn;
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(prefix_ + "log/future/0000000000000001");
  put->set_value(future.SerializeAsString());
  txn.add_success()->mutable_request_put()->set_key(prefix_ + "head");
  ASSERT_TRUE(etcd.Txn(txn, absl::Seconds(2)).ok());

  ASSERT_TRUE(WaitUntil(
      [&] {
        for (int i = 0; i < kBrokers; ++i) {
          auto s = Status(i);
          if (!s.ok() || s->serving()) return false;
        }
        return true;
      },
      seconds(10)));
  auto s = Status(1);
  ASSERT_TRUE(s.ok());
  EXPECT_NE(s->problem().find("format 2"), std::string::npos) << s->problem();
  auto refused = jobs->Increment(1, WithTimeout(seconds(3)));
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
}

TEST_F(EtcdClusterTest, BrokerCutOffFromEtcdSendsItsClientsElsewhere) {
  // A fourth broker that reaches etcd through member 0 only.
  BrokerProcess::Options o = BrokerOptions();
  *std::find(o.args.begin(), o.args.end(), etcd_->endpoints()) = etcd_->endpoint(0);
  auto lone = BrokerProcess::Start(o);
  ASSERT_TRUE(lone.ok()) << lone.status();
  ClientOptions co = ClientFor(1);
  co.endpoints = {(*lone)->endpoint(), brokers_[1]->endpoint()};
  auto client = Client::Connect(co);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->connected_endpoint(), (*lone)->endpoint());
  auto jobs = GetCounter(*client, "jobs");
  ASSERT_TRUE(jobs.ok());
  ASSERT_TRUE(jobs->Increment().ok());
  const uint64_t session = client->session_id();

  // Member 0 dies: the lone broker cannot reach a quorum. It says so, ends
  // its streams and refuses new ones; its client moves to broker 1 and
  // carries on with the same session.
  etcd_->Kill(0, SIGKILL);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s = Status((*lone)->endpoint());
        return s.ok() && !s->serving() && s->problem().find("etcd") != std::string::npos;
      },
      seconds(10)));
  absl::StatusOr<Versioned<int64_t>> next = absl::UnavailableError("not yet");
  ASSERT_TRUE(WaitUntil(
      [&] {
        next = jobs->Increment(1, WithTimeout(seconds(2)));
        return next.ok();
      },
      seconds(15)))
      << next.status();
  EXPECT_EQ(client->connected_endpoint(), brokers_[1]->endpoint());
  EXPECT_EQ(client->session_id(), session);
  EXPECT_GE(next->value, 2);
}

TEST_F(EtcdClusterTest, RequestsOverEtcdsLimitAreRefusedAndLargeBatchesSplit) {
  // Values up to 4 MiB pass the broker's own checks; etcd takes 1.5 MiB.
  BrokerProcess::Options o = BrokerOptions();
  o.args.insert(o.args.end(), {"--max-value-bytes", "4000000"});
  // Six 1 MiB entries may take etcd longer than the cluster's 3 s wait to
  // be applied, above all under the sanitizers.
  for (size_t i = 0; i + 1 < o.args.size(); ++i) {
    if (o.args[i] == "--etcd-timeout-ms") o.args[i + 1] = "60000";
  }
  auto big = BrokerProcess::Start(o);
  ASSERT_TRUE(big.ok()) << big.status();
  ClientOptions co = ClientFor(0);
  co.endpoints = {(*big)->endpoint()};
  auto client = Client::Connect(co);
  ASSERT_TRUE(client.ok()) << client.status();
  auto m = GetMap<std::string, std::string>(*client, "blobs");
  ASSERT_TRUE(m.ok());
  auto refused = m->Put("huge", std::string(2 << 20, 'x'));
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("log entry limit"), std::string::npos)
      << refused.status();
  auto absent = m->Get("huge");
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_FALSE(absent->has_value());

  // Concurrent 1 MiB puts, coalesced into batches larger than an entry:
  // every one is applied, once.
  std::vector<std::thread> writers;
  std::atomic<int> ok{0};
  // A generous deadline: under the sanitizers, six 1 MiB writes through
  // etcd may take longer than the default call timeout, and a put that
  // timed out after it was applied would fail the count, not the broker.
  std::vector<std::string> failures(6);
  for (int i = 0; i < 6; ++i) {
    writers.emplace_back([&, i] {
      auto put = m->Put(absl::StrCat("k", i), std::string(1 << 20, 'a' + i),
                        atomix::WithTimeout(std::chrono::seconds(60)));
      if (put.ok()) {
        ++ok;
      } else {
        failures[i] = put.status().ToString();
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(ok.load(), 6) << absl::StrJoin(failures, "; ");
  for (int i = 0; i < 6; ++i) {
    auto v = m->Get(absl::StrCat("k", i));
    ASSERT_TRUE(v.ok() && v->has_value()) << i;
    EXPECT_EQ((*v)->value, std::string(1 << 20, 'a' + i));
  }
}

// etcd out of space (a NOSPACE alarm): writes fail with RESOURCE_EXHAUSTED
// naming it, reads and new watches keep working.
TEST(EtcdStoreSpace, NospaceFailsWritesAndKeepsReads) {
  auto etcd = EtcdCluster::Start(1, {"--quota-backend-bytes", "8388608"});
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  BrokerProcess::Options o;
  o.args = {"--store", "etcd", "--etcd-endpoints", (*etcd)->endpoints(), "--etcd-prefix",
            "/atomix/space/"};
  auto broker = BrokerProcess::Start(o);
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto client = Client::Connect(OptionsFor(**broker));
  ASSERT_TRUE(client.ok()) << client.status();
  auto m = GetMap<std::string, std::string>(*client, "fill");
  ASSERT_TRUE(m.ok());
  absl::Status failed;
  std::string last;
  for (int i = 0; i < 200 && failed.ok(); ++i) {
    std::string value(512 << 10, static_cast<char>('a' + i % 26));
    auto put = m->Put("k", value, WithTimeout(seconds(5)));
    if (put.ok()) {
      last = value;
    } else {
      failed = put.status();
    }
  }
  ASSERT_FALSE(failed.ok()) << "etcd never ran out of space";
  EXPECT_TRUE(absl::IsResourceExhausted(failed)) << failed;
  EXPECT_NE(failed.message().find("NOSPACE"), std::string::npos) << failed;
  auto read = m->Get("k", WithTimeout(seconds(5)));
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->value, last);
  auto watch = m->Watch();
  EXPECT_TRUE(watch.ok()) << watch.status();
}

}  // namespace
}  // namespace atomix::testing
