// BrokerMetrics: the broker's Prometheus metrics, served at GET /metrics in
// the text exposition format (version 0.0.4).
//
//   BrokerMetrics metrics;
//   disk_options.wal.on_sync = metrics.SyncObserver();
//   ... open the store, make the Broker ...
//   broker.SetObserver(&metrics);
//   metrics.Attach(broker, server->process());
//   ServeMetrics(http->routes(), metrics);
//
// Per request of every batch (RequestObserver), labelled by primitive type,
// operation and gRPC status code; per batch, its size; per fdatasync of the
// disk store, its duration; and gauges read from the broker at scrape time
// (sessions, primitives, calls, watchers, watch history, lock waiters,
// revision, uptime). docs/operations.md lists every metric.
//
// Counting a request costs a table lookup and an atomic add: the label
// children are made once, on first use, and kept in fixed tables indexed by
// (type, op, code); no string is built per request.
//
// Thread-safety: thread-safe. OnBatch and the sync observer may run on any
// threads at once, and Scrape too. Attach is called once, before serving
// HTTP; the broker and process given must outlive the metrics' use.
#ifndef ATOMIX_BROKER_HTTP_METRICS_H_
#define ATOMIX_BROKER_HTTP_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/core/request_observer.h"
#include "broker-sim/src/server/inspect.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace atomix::broker {

class BrokerMetrics final : public RequestObserver {
 public:
  BrokerMetrics();
  ~BrokerMetrics() override;
  BrokerMetrics(const BrokerMetrics&) = delete;
  BrokerMetrics& operator=(const BrokerMetrics&) = delete;

  // Where the scrape-time gauges are read from. Before Attach they read 0
  // (atomix_up reads 1 as soon as metrics are served).
  void Attach(Broker& broker, const BrokerProcess& process);

  void OnBatch(absl::Span<const RequestOutcome> outcomes,
               absl::Duration took) override;

  // For WalOptions::on_sync: counts one fdatasync and its duration.
  void ObserveSync(absl::Duration took);
  std::function<void(absl::Duration)> SyncObserver() {
    return [this](absl::Duration took) { ObserveSync(took); };
  }

  // Reads the gauges, then renders every metric in the text format.
  std::string Scrape() ABSL_LOCKS_EXCLUDED(scrape_mu_);

  prometheus::Registry& registry() { return *registry_; }

 private:
  // The label values of the dense op index (see metrics.cc).
  struct OpLabels {
    std::string op;     // the sub-op's name, or the Request.op name
    std::string outer;  // the Request.op name ("none" if unset)
  };
  int OpIndex(int op, int sub_op) const;
  prometheus::Counter& RequestCounter(int type, int op, int code);
  prometheus::Histogram& RequestHistogram(int type, int op);
  std::string TypeLabel(int type, int op) const;

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_seconds_;
  prometheus::Histogram& batch_requests_;
  prometheus::Counter& batches_;
  prometheus::Counter& syncs_;
  prometheus::Histogram& sync_seconds_;
  prometheus::Gauge& sessions_;
  prometheus::Gauge& primitives_;
  prometheus::Gauge& open_calls_;
  prometheus::Gauge& watchers_;
  prometheus::Gauge& history_events_;
  prometheus::Gauge& history_bytes_;
  prometheus::Counter& history_compactions_;
  prometheus::Gauge& lock_waiters_;
  prometheus::Gauge& revision_;
  prometheus::Gauge& up_;
  prometheus::Gauge& uptime_seconds_;

  // Dense op indexes: op_index_[Request.op field number][sub-op field
  // number]; index 0 is "no op".
  std::vector<std::vector<int>> op_index_;
  std::vector<OpLabels> op_labels_;
  // Label children by (type, op) and (type, op, code), made on first use.
  std::unique_ptr<std::atomic<prometheus::Counter*>[]> counters_;
  std::unique_ptr<std::atomic<prometheus::Histogram*>[]> histograms_;

  Broker* broker_ = nullptr;                 // set by Attach, before serving
  const BrokerProcess* process_ = nullptr;   // likewise
  absl::Mutex scrape_mu_;
  uint64_t compactions_seen_ ABSL_GUARDED_BY(scrape_mu_) = 0;
};

// Serves GET /metrics from `metrics` (text/plain; version=0.0.4).
void ServeMetrics(httplib::Server& routes, BrokerMetrics& metrics);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_HTTP_METRICS_H_
