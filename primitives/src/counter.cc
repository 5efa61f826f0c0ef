#include "atomix/counter.h"

#include <limits>

#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix {
namespace {

using internal::PrimitiveKind;

constexpr internal::ResponsePart<v1::CounterResponse> kCounterPart{&v1::Response::has_counter,
                                                                  &v1::Response::mutable_counter};

template <class T, class F>
Future<T> SendCounter(internal::ClientCore& core, const std::string& name, v1::CounterRequest op,
                      const char* op_name, const CallOptions& options, bool idempotent,
                      F convert) {
  v1::Request request = internal::NewRequest(PrimitiveKind::kCounter, name);
  *request.mutable_counter() = std::move(op);
  return internal::Send<T>(core, std::move(request), options,
                           internal::CallKind{.idempotent = idempotent}, PrimitiveKind::kCounter,
                           name, op_name, kCounterPart, std::move(convert));
}

Future<Versioned<int64_t>> Mutation(internal::ClientCore& core, const std::string& name,
                                    v1::CounterRequest op, const char* op_name,
                                    const CallOptions& options) {
  return SendCounter<Versioned<int64_t>>(
      core, name, std::move(op), op_name, options, /*idempotent=*/false,
      [](v1::CounterResponse& r) { return Versioned<int64_t>{r.value(), r.version()}; });
}

}  // namespace

Future<int64_t> Counter::GetAsync(const CallOptions& options) const {
  v1::CounterRequest op;
  op.mutable_get();
  return SendCounter<int64_t>(*core_, name_, std::move(op), "get", options, /*idempotent=*/true,
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
        core_.get(), absl::InvalidArgumentError("Counter::Decrement: delta must be greater than INT64_MIN"));
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

absl::StatusOr<Versioned<int64_t>> Counter::CompareAndSet(int64_t expect, int64_t update,
                                                          const CallOptions& options) const {
  return CompareAndSetAsync(expect, update, options).get();
}

namespace internal {

absl::StatusOr<Counter> GetCounter(std::shared_ptr<ClientCore> core, std::string_view name,
                                   const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, PrimitiveKind::kCounter, name, options);
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
