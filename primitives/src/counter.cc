#include "atomix/counter.h"

#include <limits>

#include "atomix/internal/watch_core.h"
#include "atomix/v1/counter.pb.h"
#include "primitives/src/grant.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix {
namespace {

constexpr internal::PrimitiveKind kCounterKind{v1::COUNTER, "counter"};
constexpr internal::OpWire<v1::CounterRequest, v1::CounterResponse> kCounterWire{
    kCounterKind, &v1::Request::mutable_counter, &v1::Response::has_counter,
    &v1::Response::mutable_counter};

// Watch events carry a v1::CounterWatch detail.
auto CounterDecoder() {
  return internal::DecodeDetail<CounterEvent, v1::CounterWatch>(
      kCounterKind,
      [](const v1::CounterWatch& d, const internal::RawWatchEvent& r) {
        return CounterEvent{r.type, r.revision, d.value(), d.previous_value(),
                            ResyncReason::kNone};
      },
      [](const v1::CounterWatch& d, EventType type, const internal::RawSnapshot& raw) {
        return CounterEvent{type, raw.revision, d.value(), 0, raw.reason};
      });
}

Future<Versioned<int64_t>> Mutation(internal::ClientCore& core, const std::string& name,
                                    v1::CounterRequest op, const char* op_name,
                                    const CallOptions& options) {
  return internal::CallOp<Versioned<int64_t>>(core, kCounterWire, name, std::move(op), op_name,
                                              options, internal::CallKind{.idempotent = false},
                                              [](v1::CounterResponse& r) {
                                                return Versioned<int64_t>{r.value(), r.version()};
                                              });
}

}  // namespace

Future<int64_t> Counter::GetAsync(const CallOptions& options) const {
  v1::CounterRequest op;
  op.mutable_get();
  return internal::CallOp<int64_t>(*core_, kCounterWire, name_, std::move(op), "get", options,
                                   internal::CallKind{.idempotent = true},
                                   [](v1::CounterResponse& r) { return r.value(); });
}

Future<Versioned<int64_t>> Counter::SetAsync(int64_t value, const CallOptions& options) const {
  v1::CounterRequest op;
  op.mutable_set()->set_value(value);
  return Mutation(*core_, name_, std::move(op), "set", options);
}

Future<Versioned<int64_t>> Counter::IncrementAsync(int64_t delta,
                                                   const CallOptions& options) const {
  v1::CounterRequest op;
  op.mutable_add()->set_delta(delta);
  return Mutation(*core_, name_, std::move(op), "add", options);
}

Future<Versioned<int64_t>> Counter::DecrementAsync(int64_t delta,
                                                   const CallOptions& options) const {
  if (delta == std::numeric_limits<int64_t>::min()) {
    return internal::Refused<Versioned<int64_t>>(
        core_.get(),
        absl::InvalidArgumentError("Counter::Decrement: delta must be greater than INT64_MIN"));
  }
  return IncrementAsync(-delta, options);
}

Future<Versioned<int64_t>> Counter::CompareAndSetAsync(int64_t expect, int64_t update,
                                                       const CallOptions& options) const {
  v1::CounterRequest op;
  auto* cas = op.mutable_compare_and_set();
  cas->set_expect(expect);
  cas->set_update(update);
  return Mutation(*core_, name_, std::move(op), "compare_and_set", options);
}

absl::StatusOr<int64_t> Counter::Get(const CallOptions& options) const {
  return GetAsync(options).get();
}

absl::StatusOr<Versioned<int64_t>> Counter::Set(int64_t value, const CallOptions& options) const {
  return SetAsync(value, options).get();
}

absl::StatusOr<Versioned<int64_t>> Counter::Increment(int64_t delta,
                                                      const CallOptions& options) const {
  return IncrementAsync(delta, options).get();
}

absl::StatusOr<Versioned<int64_t>> Counter::Decrement(int64_t delta,
                                                      const CallOptions& options) const {
  return DecrementAsync(delta, options).get();
}

absl::StatusOr<Channel<CounterEvent>> Counter::Watch(const WatchOptions& options) const {
  return internal::OpenWatch<CounterEvent>(
      core_, internal::WatchTarget{.kind = kCounterKind, .name = name_}, options, CounterDecoder());
}

absl::StatusOr<Versioned<int64_t>> Counter::CompareAndSet(int64_t expect, int64_t update,
                                                          const CallOptions& options) const {
  return CompareAndSetAsync(expect, update, options).get();
}

namespace internal {

absl::StatusOr<Counter> GetCounter(std::shared_ptr<ClientCore> core, std::string_view name,
                                   const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kCounterKind, name, options);
  if (!opened.ok()) return opened;
  return Counter(std::move(core), std::string(name));
}

}  // namespace internal

absl::StatusOr<Counter> GetCounter(const Client& client, std::string_view name,
                                   const CallOptions& options) {
  return internal::GetCounter(internal_core(client), name, options);
}

absl::StatusOr<Counter> GetCounter(std::string_view name, const CallOptions& options) {
  return GetCounter(DefaultClient(), name, options);
}

}  // namespace atomix
