// The broker core's RequestObserver hook and BrokerMetrics, in process: what
// the observer is told per request, the engine's count of lock waiters, and
// the exposition BrokerMetrics renders from it.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/http/metrics.h"
#include "broker-sim/src/store/memory_store.h"
#include "broker-sim/src/testing/requests.h"

namespace atomix::broker {
namespace {

using testing::MakeRequest;

class Recorder final : public RequestObserver {
 public:
  void OnBatch(absl::Span<const RequestOutcome> outcomes, absl::Duration took) override {
    absl::MutexLock lock(&mu_);
    EXPECT_GE(took, absl::ZeroDuration());
    batches_.emplace_back(outcomes.begin(), outcomes.end());
  }
  std::vector<std::vector<RequestOutcome>> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::vector<RequestOutcome>> batches_ ABSL_GUARDED_BY(mu_);
};

uint64_t OpenSession(Broker& broker) {
  v1::Request open;
  open.set_id(1);
  open.mutable_session()->mutable_open()->set_ttl_ms(10000);
  return broker.Execute(open).session().session_id();
}

TEST(RequestObserver, ToldTypeOpSubOpAndCodeOfEveryRequest) {
  Broker broker(std::make_unique<MemoryStore>(Limits{}), Limits{});
  Recorder recorder;
  broker.SetObserver(&recorder);
  v1::RequestBatch batch;
  *batch.add_requests() = MakeRequest(v1::COUNTER, "c", "counter { add { delta: 1 } }", 1);
  *batch.add_requests() =
      MakeRequest(v1::COUNTER, "c", "counter { compare_and_set { expect: 7 update: 8 } }", 2);
  *batch.add_requests() = MakeRequest(v1::COUNTER, "", "counter { get {} }", 3);  // no name
  v1::ResponseBatch out;
  broker.Execute(batch, out);

  const auto batches = recorder.batches();
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].size(), 3u);
  const RequestOutcome& add = batches[0][0];
  EXPECT_EQ(add.type, v1::COUNTER);
  EXPECT_EQ(add.op, v1::Request::kCounter);
  EXPECT_EQ(add.sub_op, v1::CounterRequest::kAdd);
  EXPECT_EQ(add.code, 0);
  EXPECT_EQ(batches[0][1].sub_op, v1::CounterRequest::kCompareAndSet);
  EXPECT_EQ(batches[0][1].code, static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(batches[0][2].sub_op, v1::CounterRequest::kGet);
  EXPECT_EQ(batches[0][2].code, static_cast<int>(absl::StatusCode::kInvalidArgument));
}

TEST(RequestObserver, WaitingAcquireIsToldAsWaitingAndCountedAsLockWaiter) {
  Broker broker(std::make_unique<MemoryStore>(Limits{}), Limits{});
  Recorder recorder;
  broker.SetObserver(&recorder);
  const uint64_t a = OpenSession(broker);
  const uint64_t b = OpenSession(broker);
  std::vector<Completion> completions;
  v1::Response response;
  v1::Request acquire_a = MakeRequest(v1::LOCK, "l", "lock { acquire {} }", 10);
  acquire_a.set_session_id(a);
  ASSERT_TRUE(broker.Execute(acquire_a, 1, response, completions));
  v1::Request acquire_b = MakeRequest(v1::LOCK, "l", "lock { acquire {} }", 11);
  acquire_b.set_session_id(b);
  EXPECT_FALSE(broker.Execute(acquire_b, 2, response, completions));  // waits
  EXPECT_EQ(broker.store().Stats().lock_waiters, 1u);
  EXPECT_EQ(recorder.batches().back()[0].code, RequestOutcome::kWaiting);

  v1::Request release = MakeRequest(v1::LOCK, "l", "lock { release {} }", 12);
  release.set_session_id(a);
  ASSERT_TRUE(broker.Execute(release, 1, response, completions));
  ASSERT_EQ(completions.size(), 1u);  // b's grant
  EXPECT_EQ(broker.store().Stats().lock_waiters, 0u);
  // Session opens, two acquires and a release: the grant is no new batch.
  EXPECT_EQ(recorder.batches().size(), 5u);
}

std::string Line(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return "";
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

TEST(BrokerMetrics, RendersCountersGaugesAndHistograms) {
  Broker broker(std::make_unique<MemoryStore>(Limits{}), Limits{});
  BrokerMetrics metrics;
  BrokerProcess process;
  process.open_calls = [] { return size_t{3}; };
  process.watchers = [] { return size_t{2}; };
  metrics.Attach(broker, process);
  broker.SetObserver(&metrics);
  broker.Execute(MakeRequest(v1::COUNTER, "c", "counter { add { delta: 1 } }", 1));
  broker.Execute(MakeRequest(v1::COUNTER, "c", "counter { add { delta: 1 } }", 2));
  metrics.OnBatch({RequestOutcome{.type = 99, .op = 0, .sub_op = 0, .code = 40}},
                  absl::Milliseconds(1));
  metrics.ObserveSync(absl::Microseconds(300));

  const std::string text = "\n" + metrics.Scrape();
  EXPECT_EQ(Line(text, R"(atomix_requests_total{code="OK",op="add",type="counter"})"),
            R"(atomix_requests_total{code="OK",op="add",type="counter"} 2)");
  EXPECT_EQ(Line(text, R"(atomix_requests_total{code="UNKNOWN",op="none",type="unknown"})"),
            R"(atomix_requests_total{code="UNKNOWN",op="none",type="unknown"} 1)");
  EXPECT_EQ(Line(text, R"(atomix_request_duration_seconds_count{op="add",type="counter"})"),
            R"(atomix_request_duration_seconds_count{op="add",type="counter"} 2)");
  EXPECT_EQ(Line(text, "atomix_batches_total"), "atomix_batches_total 3");
  EXPECT_EQ(Line(text, "atomix_batch_requests_count"), "atomix_batch_requests_count 3");
  EXPECT_EQ(Line(text, "atomix_store_syncs_total"), "atomix_store_syncs_total 1");
  EXPECT_EQ(Line(text, R"(atomix_store_sync_duration_seconds_bucket{le="0.0005"})"),
            R"(atomix_store_sync_duration_seconds_bucket{le="0.0005"} 1)");
  EXPECT_EQ(Line(text, R"(atomix_store_sync_duration_seconds_bucket{le="0.00025"})"),
            R"(atomix_store_sync_duration_seconds_bucket{le="0.00025"} 0)");
  EXPECT_EQ(Line(text, "atomix_primitives"), "atomix_primitives 1");
  EXPECT_EQ(Line(text, "atomix_open_calls"), "atomix_open_calls 3");
  EXPECT_EQ(Line(text, "atomix_watchers"), "atomix_watchers 2");
  EXPECT_EQ(Line(text, "atomix_up"), "atomix_up 1");
  EXPECT_EQ(Line(text, "atomix_lock_waiters"), "atomix_lock_waiters 0");
  EXPECT_EQ(Line(text, "atomix_watch_history_events"), "atomix_watch_history_events 2");
}

TEST(BrokerMetrics, HistoryCompactionsCountEvictedEvents) {
  WatchHistoryOptions history{.max_events = 2, .max_bytes = 1 << 20};
  Broker broker(std::make_unique<MemoryStore>(Limits{}, &absl::Now, 0, history, 0), Limits{});
  BrokerMetrics metrics;
  BrokerProcess process;
  metrics.Attach(broker, process);
  for (int i = 0; i < 5; ++i) {
    broker.Execute(MakeRequest(v1::COUNTER, "c", "counter { add { delta: 1 } }", i + 1));
  }
  std::string text = "\n" + metrics.Scrape();
  EXPECT_EQ(Line(text, "atomix_watch_history_events"), "atomix_watch_history_events 2");
  EXPECT_EQ(Line(text, "atomix_watch_history_compactions_total"),
            "atomix_watch_history_compactions_total 3");
  broker.Execute(MakeRequest(v1::COUNTER, "c", "counter { add { delta: 1 } }", 9));
  text = "\n" + metrics.Scrape();
  EXPECT_EQ(Line(text, "atomix_watch_history_compactions_total"),
            "atomix_watch_history_compactions_total 4");
  EXPECT_EQ(Line(text, "atomix_revision"), "atomix_revision 6");
}

}  // namespace
}  // namespace atomix::broker
