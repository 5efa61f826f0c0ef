// The broker's HTTP endpoint against a real atomix-broker: /metrics counts
// the SDK's requests by type, op and code with exact deltas, reports
// sessions, lock waiters and disk syncs; /healthz and /readyz answer, and
// /readyz fails while the etcd store's cluster is down.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/etcd_cluster.h"
#include "tests/support/http_fetch.h"
#include "tests/support/process.h"
#include "tests/support/test_client.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;

// Series names, labels sorted by name as prometheus-cpp writes them.
std::string Requests(const std::string& type, const std::string& op, const std::string& code) {
  return "atomix_requests_total{code=\"" + code + "\",op=\"" + op + "\",type=\"" + type + "\"}";
}
std::string DurationCount(const std::string& type, const std::string& op) {
  return "atomix_request_duration_seconds_count{op=\"" + op + "\",type=\"" + type + "\"}";
}

// A broker (memory store unless `args` name one) serving HTTP on a free
// port, and a client connected to it.
class HttpBrokerTest : public ::testing::Test {
 protected:
  void StartBroker(std::vector<std::string> args = {}) {
    dir_ = MakeTempDir("atomix-http");
    BrokerProcess::Options options;
    options.args = {"--http-listen", "127.0.0.1:0", "--http-port-file", dir_ + "/http-port"};
    options.args.insert(options.args.end(), args.begin(), args.end());
    auto broker = BrokerProcess::Start(options);
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
    http_port_ = WaitForHttpPort(dir_ + "/http-port");
    ASSERT_GT(http_port_, 0);
    auto client = Client::Connect(OptionsFor(*broker_));
    ASSERT_TRUE(client.ok()) << client.status();
    client_.emplace(*client);
  }

  std::string Scrape() {
    HttpResult r = HttpGet(http_port_, "/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/plain; version=0.0.4");
    return r.body;
  }

  std::string dir_;
  std::unique_ptr<BrokerProcess> broker_;
  int http_port_ = 0;
  std::optional<Client> client_;
};

class HttpMetrics : public HttpBrokerTest {};

TEST_F(HttpMetrics, CountsRequestsByTypeOpAndCode) {
  StartBroker();
  auto counter = GetCounter(*client_, "jobs");
  ASSERT_TRUE(counter.ok()) << counter.status();
  const std::string before = Scrape();

  for (int i = 0; i < 3; ++i) ASSERT_TRUE(counter->Increment(1).ok());
  ASSERT_EQ(*counter->Get(), 3);
  ASSERT_EQ(*counter->Get(), 3);
  EXPECT_EQ(counter->CompareAndSet(999, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);

  const std::string after = Scrape();
  const auto delta = [&](const std::string& series) {
    return Sample(after, series) - Sample(before, series);
  };
  EXPECT_EQ(delta(Requests("counter", "add", "OK")), 3);
  EXPECT_EQ(delta(Requests("counter", "get", "OK")), 2);
  EXPECT_EQ(delta(Requests("counter", "compare_and_set", "FAILED_PRECONDITION")), 1);
  EXPECT_EQ(delta(Requests("counter", "compare_and_set", "OK")), 0);
  EXPECT_EQ(delta(DurationCount("counter", "add")), 3);
  EXPECT_EQ(delta(DurationCount("counter", "get")), 2);
  EXPECT_EQ(delta(DurationCount("counter", "compare_and_set")), 1);
  // Every request is in some batch; the SDK sent these one at a time.
  EXPECT_GE(delta("atomix_batches_total"), 6);
  EXPECT_GE(delta("atomix_batch_requests_count"), 6);
  // Three increments are the broker's three revisions (from 0); the open
  // counter is one primitive.
  EXPECT_EQ(Sample(after, "atomix_revision"), 3);
  EXPECT_EQ(Sample(after, "atomix_primitives"), 1);
  EXPECT_EQ(Sample(after, "atomix_up"), 1);
  EXPECT_GE(Sample(after, "atomix_open_calls"), 1);  // the client's stream
  EXPECT_EQ(Sample(after, "atomix_watchers"), 0);
  // Each increment is one watch event, kept in the history.
  EXPECT_EQ(Sample(after, "atomix_watch_history_events"), 3);
  EXPECT_GT(Sample(after, "atomix_watch_history_bytes"), 0);
  EXPECT_EQ(Sample(after, "atomix_watch_history_compactions_total"), 0);
  // The memory store makes no syncs.
  EXPECT_EQ(Sample(after, "atomix_store_syncs_total"), 0);
}

TEST_F(HttpMetrics, InvalidRequestsCountAsInvalidArgument) {
  StartBroker();
  auto counter = GetCounter(*client_, "ok-name");
  ASSERT_TRUE(counter.ok());
  const std::string before = Scrape();
  auto bad = GetCounter(*client_, std::string(300, 'x'));  // names are 1..256 bytes
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
  const std::string after = Scrape();
  EXPECT_EQ(Sample(after, Requests("counter", "open", "INVALID_ARGUMENT")) -
                Sample(before, Requests("counter", "open", "INVALID_ARGUMENT")),
            1);
}

TEST_F(HttpMetrics, ShowsSessionsAndLockWaiters) {
  StartBroker();
  auto other = Client::Connect(OptionsFor(*broker_));
  ASSERT_TRUE(other.ok()) << other.status();
  auto a = GetLock(*client_, "db");
  auto b = GetLock(*other, "db");
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string before = Scrape();
  const auto delta = [&](const std::string& now, const std::string& series) {
    return Sample(now, series) - Sample(before, series);
  };

  ASSERT_TRUE(a->Acquire().ok());
  auto waiting = std::async(std::launch::async, [&] { return b->Acquire(WithTimeout(seconds(30))); });
  // The waiter gauge is read live from the engine, which queues the waiter
  // before the batch's outcome is counted, so wait for both to show.
  std::string blocked;
  ASSERT_TRUE(WaitUntil([&] {
    blocked = Scrape();
    return Sample(blocked, "atomix_lock_waiters") == 1 &&
           delta(blocked, Requests("lock", "acquire", "WAITING")) >= 1;
  })) << blocked;
  EXPECT_EQ(Sample(blocked, "atomix_sessions"), 2);
  EXPECT_EQ(delta(blocked, Requests("lock", "acquire", "OK")), 1);
  EXPECT_EQ(delta(blocked, Requests("lock", "acquire", "WAITING")), 1);

  ASSERT_TRUE(a->Release().ok());
  ASSERT_TRUE(waiting.get().ok());
  ASSERT_TRUE(b->Release().ok());
  const std::string after = Scrape();
  EXPECT_EQ(Sample(after, "atomix_lock_waiters"), 0);
  // The waiter's late grant is not counted again.
  EXPECT_EQ(delta(after, Requests("lock", "acquire", "OK")), 1);
  EXPECT_EQ(delta(after, Requests("lock", "acquire", "WAITING")), 1);
  EXPECT_EQ(delta(after, Requests("lock", "release", "OK")), 2);
  EXPECT_EQ(delta(after, DurationCount("lock", "acquire")), 2);
  EXPECT_EQ(delta(after, DurationCount("lock", "release")), 2);
}

TEST_F(HttpMetrics, DiskStoreSyncsAreCounted) {
  StartBroker({"--store", "disk", "--data-dir", MakeTempDir("atomix-http-data")});
  auto counter = GetCounter(*client_, "jobs");
  ASSERT_TRUE(counter.ok()) << counter.status();
  const std::string before = Scrape();
  ASSERT_TRUE(counter->Increment(1).ok());
  const std::string after = Scrape();
  // Every acknowledged write waited for an fdatasync (--sync always).
  EXPECT_GE(Sample(after, "atomix_store_syncs_total"),
            Sample(before, "atomix_store_syncs_total") + 1);
  EXPECT_EQ(Sample(after, "atomix_store_sync_duration_seconds_count"),
            Sample(after, "atomix_store_syncs_total"));
}

class HttpHealth : public HttpBrokerTest {};

TEST_F(HttpHealth, HealthzAndReadyzAnswerOk) {
  StartBroker();
  HttpResult healthz = HttpGet(http_port_, "/healthz");
  EXPECT_EQ(healthz.status, 200);
  EXPECT_EQ(healthz.body, "ok\n");
  HttpResult readyz = HttpGet(http_port_, "/readyz");
  EXPECT_EQ(readyz.status, 200);
  EXPECT_EQ(readyz.body, "ok\n");
  EXPECT_EQ(HttpGet(http_port_, "/no-such-page").status, 404);
}

TEST_F(HttpHealth, ReadyzFailsWhileEtcdIsDown) {
  auto etcd = EtcdCluster::Start(1);
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  StartBroker({"--store", "etcd", "--etcd-endpoints", (*etcd)->endpoints(), "--etcd-prefix",
               "/http-health/", "--etcd-timeout-ms", "1000"});
  EXPECT_TRUE(WaitUntil([&] { return HttpGet(http_port_, "/readyz").status == 200; }));

  (*etcd)->Kill(0, SIGKILL);
  HttpResult readyz;
  ASSERT_TRUE(WaitUntil([&] {
    readyz = HttpGet(http_port_, "/readyz");
    return readyz.status == 503;
  }));
  EXPECT_FALSE(readyz.body.empty());
  // The process itself still serves.
  EXPECT_EQ(HttpGet(http_port_, "/healthz").status, 200);

  ASSERT_TRUE((*etcd)->Restart(0).ok());
  EXPECT_TRUE(WaitUntil([&] { return HttpGet(http_port_, "/readyz").status == 200; }));
}

}  // namespace
}  // namespace atomix::testing
