// The broker's Prometheus metrics.
#include "broker-sim/src/http/metrics.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "atomix/v1/broker.pb.h"
#include "atomix/v1/types.pb.h"
#include "google/protobuf/descriptor.h"
#include "httplib.h"
#include "prometheus/text_serializer.h"

namespace atomix::broker {
namespace {

// Type indexes: the PrimitiveType values, then one for values that are not.
constexpr int kUnknownType = v1::PrimitiveType_MAX + 1;
constexpr int kTypes = kUnknownType + 1;
// Code indexes: the gRPC codes, then one for requests that wait.
constexpr int kWaitingCode = 17;
constexpr int kCodes = kWaitingCode + 1;
constexpr const char* kCodeNames[kCodes] = {
    "OK",           "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS",   "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",  "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",      "DATA_LOSS",
    "UNAUTHENTICATED", "WAITING"};

const prometheus::Histogram::BucketBoundaries& SecondsBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 5, 10};
  return *buckets;
}

int TypeIndex(int32_t type) {
  return v1::PrimitiveType_IsValid(type) ? type : kUnknownType;
}

int CodeIndex(int code) {
  if (code == RequestOutcome::kWaiting) return kWaitingCode;
  return code >= 0 && code < kWaitingCode ? code : 2;  // UNKNOWN
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

BrokerMetrics::BrokerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("atomix_requests_total")
                    .Help("Requests answered, by primitive type, operation and "
                          "gRPC status code (WAITING: answered later)")
                    .Register(*registry_)),
      request_seconds_(prometheus::BuildHistogram()
                           .Name("atomix_request_duration_seconds")
                           .Help("Time from a request's batch reaching the broker "
                                 "core to its answer")
                           .Register(*registry_)),
      batch_requests_(prometheus::BuildHistogram()
                          .Name("atomix_batch_requests")
                          .Help("Requests per request batch")
                          .Register(*registry_)
                          .Add({}, prometheus::Histogram::BucketBoundaries{
                                       1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096})),
      batches_(prometheus::BuildCounter()
                   .Name("atomix_batches_total")
                   .Help("Request batches answered")
                   .Register(*registry_)
                   .Add({})),
      syncs_(prometheus::BuildCounter()
                 .Name("atomix_store_syncs_total")
                 .Help("fdatasync calls of the disk store's log")
                 .Register(*registry_)
                 .Add({})),
      sync_seconds_(prometheus::BuildHistogram()
                        .Name("atomix_store_sync_duration_seconds")
                        .Help("Duration of the disk store's fdatasync calls")
                        .Register(*registry_)
                        .Add({}, SecondsBuckets())),
      sessions_(prometheus::BuildGauge()
                    .Name("atomix_sessions")
                    .Help("Open client sessions")
                    .Register(*registry_)
                    .Add({})),
      primitives_(prometheus::BuildGauge()
                      .Name("atomix_primitives")
                      .Help("Names bound to a primitive")
                      .Register(*registry_)
                      .Add({})),
      open_calls_(prometheus::BuildGauge()
                      .Name("atomix_open_calls")
                      .Help("Open Broker.Stream and Broker.Watch calls")
                      .Register(*registry_)
                      .Add({})),
      watchers_(prometheus::BuildGauge()
                    .Name("atomix_watchers")
                    .Help("Open Broker.Watch calls")
                    .Register(*registry_)
                    .Add({})),
      history_events_(prometheus::BuildGauge()
                          .Name("atomix_watch_history_events")
                          .Help("Watch events kept for watchers to catch up or resume")
                          .Register(*registry_)
                          .Add({})),
      history_bytes_(prometheus::BuildGauge()
                         .Name("atomix_watch_history_bytes")
                         .Help("Serialized bytes of the watch events kept")
                         .Register(*registry_)
                         .Add({})),
      history_compactions_(prometheus::BuildCounter()
                               .Name("atomix_watch_history_compactions_total")
                               .Help("Watch events dropped from the history to "
                                     "keep it within its bounds")
                               .Register(*registry_)
                               .Add({})),
      lock_waiters_(prometheus::BuildGauge()
                        .Name("atomix_lock_waiters")
                        .Help("Acquires waiting in the queues of Lock and "
                              "ReadWriteLock primitives")
                        .Register(*registry_)
                        .Add({})),
      revision_(prometheus::BuildGauge()
                    .Name("atomix_revision")
                    .Help("The latest revision handed out")
                    .Register(*registry_)
                    .Add({})),
      up_(prometheus::BuildGauge()
              .Name("atomix_up")
              .Help("1 while the broker serves")
              .Register(*registry_)
              .Add({})),
      uptime_seconds_(prometheus::BuildGauge()
                          .Name("atomix_uptime_seconds")
                          .Help("Seconds since the broker started serving")
                          .Register(*registry_)
                          .Add({})) {
  up_.Set(1);
  // Dense op indexes from Request.op and each op message's own oneof.
  op_labels_.push_back({"none", "none"});
  const google::protobuf::OneofDescriptor* ops =
      v1::Request::descriptor()->FindOneofByName("op");
  int max_op = 0;
  for (int i = 0; i < ops->field_count(); ++i) {
    max_op = std::max(max_op, ops->field(i)->number());
  }
  op_index_.resize(max_op + 1);
  for (int i = 0; i < ops->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* op = ops->field(i);
    std::vector<int>& subs = op_index_[op->number()];
    const google::protobuf::Descriptor* type = op->message_type();
    const google::protobuf::OneofDescriptor* inner =
        type != nullptr && type->oneof_decl_count() > 0 ? type->oneof_decl(0) : nullptr;
    int max_sub = 0;
    for (int k = 0; inner != nullptr && k < inner->field_count(); ++k) {
      max_sub = std::max(max_sub, inner->field(k)->number());
    }
    subs.assign(max_sub + 1, 0);
    // Sub-op 0: the op message has no oneof, or none of it is set.
    subs[0] = static_cast<int>(op_labels_.size());
    op_labels_.push_back({op->name(), op->name()});
    for (int k = 0; inner != nullptr && k < inner->field_count(); ++k) {
      subs[inner->field(k)->number()] = static_cast<int>(op_labels_.size());
      op_labels_.push_back({inner->field(k)->name(), op->name()});
    }
  }
  const size_t ops_count = op_labels_.size();
  counters_ = std::make_unique<std::atomic<prometheus::Counter*>[]>(
      kTypes * ops_count * kCodes);
  histograms_ = std::make_unique<std::atomic<prometheus::Histogram*>[]>(
      kTypes * ops_count);
}

BrokerMetrics::~BrokerMetrics() = default;

void BrokerMetrics::Attach(Broker& broker, const BrokerProcess& process) {
  broker_ = &broker;
  process_ = &process;
}

int BrokerMetrics::OpIndex(int op, int sub_op) const {
  if (op <= 0 || op >= static_cast<int>(op_index_.size())) return 0;
  const std::vector<int>& subs = op_index_[op];
  if (subs.empty()) return 0;
  if (sub_op < 0 || sub_op >= static_cast<int>(subs.size())) return subs[0];
  return subs[sub_op] != 0 ? subs[sub_op] : subs[0];
}

std::string BrokerMetrics::TypeLabel(int type, int op) const {
  if (type == kUnknownType) return "unknown";
  if (type == v1::PRIMITIVE_TYPE_UNSPECIFIED) return op_labels_[op].outer;
  return Lower(v1::PrimitiveType_Name(static_cast<v1::PrimitiveType>(type)));
}

prometheus::Counter& BrokerMetrics::RequestCounter(int type, int op, int code) {
  std::atomic<prometheus::Counter*>& slot =
      counters_[(static_cast<size_t>(type) * op_labels_.size() + op) * kCodes + code];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Family::Add returns the one child of these labels, so racing
    // first uses agree.
    counter = &requests_.Add({{"type", TypeLabel(type, op)},
                              {"op", op_labels_[op].op},
                              {"code", kCodeNames[code]}});
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

prometheus::Histogram& BrokerMetrics::RequestHistogram(int type, int op) {
  std::atomic<prometheus::Histogram*>& slot =
      histograms_[static_cast<size_t>(type) * op_labels_.size() + op];
  prometheus::Histogram* histogram = slot.load(std::memory_order_acquire);
  if (histogram == nullptr) {
    histogram = &request_seconds_.Add(
        {{"type", TypeLabel(type, op)}, {"op", op_labels_[op].op}}, SecondsBuckets());
    slot.store(histogram, std::memory_order_release);
  }
  return *histogram;
}

void BrokerMetrics::OnBatch(absl::Span<const RequestOutcome> outcomes,
                            absl::Duration took) {
  const double seconds = absl::ToDoubleSeconds(took);
  batches_.Increment();
  batch_requests_.Observe(static_cast<double>(outcomes.size()));
  for (const RequestOutcome& outcome : outcomes) {
    const int type = TypeIndex(outcome.type);
    const int op = OpIndex(outcome.op, outcome.sub_op);
    RequestCounter(type, op, CodeIndex(outcome.code)).Increment();
    RequestHistogram(type, op).Observe(seconds);
  }
}

void BrokerMetrics::ObserveSync(absl::Duration took) {
  syncs_.Increment();
  sync_seconds_.Observe(absl::ToDoubleSeconds(took));
}

std::string BrokerMetrics::Scrape() {
  absl::MutexLock lock(&scrape_mu_);
  if (broker_ != nullptr) {
    Store& store = broker_->store();
    const StoreStats stats = store.Stats();
    sessions_.Set(static_cast<double>(store.session_count()));
    primitives_.Set(static_cast<double>(store.primitive_count()));
    history_events_.Set(static_cast<double>(stats.history_events));
    history_bytes_.Set(static_cast<double>(stats.history_bytes));
    if (stats.history_evicted_events > compactions_seen_) {
      history_compactions_.Increment(
          static_cast<double>(stats.history_evicted_events - compactions_seen_));
      compactions_seen_ = stats.history_evicted_events;
    }
    lock_waiters_.Set(static_cast<double>(stats.lock_waiters));
    revision_.Set(static_cast<double>(store.revision()));
  }
  if (process_ != nullptr) {
    open_calls_.Set(static_cast<double>(process_->open_calls()));
    watchers_.Set(static_cast<double>(process_->watchers()));
    uptime_seconds_.Set(absl::ToDoubleSeconds(absl::Now() - process_->started));
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void ServeMetrics(httplib::Server& routes, BrokerMetrics& metrics) {
  routes.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.Scrape(), "text/plain; version=0.0.4");
  });
}

}  // namespace atomix::broker
