#include "atomix/counter.h"

#include <limits>

#include "primitives/src/request.h"
#include "sdk/src/client_core.h"

namespace atomix {
namespace {

using internal::PrimitiveKind;

absl::StatusOr<v1::CounterResponse> CallCounter(internal::ClientCore& core, const std::string& name,
                                                v1::CounterRequest op, const char* op_name,
                                                const CallOptions& options, bool idempotent) {
  v1::Request request = internal::NewRequest(PrimitiveKind::kCounter, name);
  *request.mutable_counter() = std::move(op);
  absl::StatusOr<v1::Response> response = core.Call(std::move(request), options, idempotent);
  if (!response.ok()) return response.status();
  if (!response->has_counter()) {
    return internal::MissingResult(PrimitiveKind::kCounter, name, op_name);
  }
  return std::move(*response->mutable_counter());
}

absl::StatusOr<Versioned<int64_t>> Mutation(internal::ClientCore& core, const std::string& name,
                                            v1::CounterRequest op, const char* op_name,
                                            const CallOptions& options) {
  auto r = CallCounter(core, name, std::move(op), op_name, options, /*idempotent=*/false);
  if (!r.ok()) return r.status();
  return Versioned<int64_t>{r->value(), r->version()};
}

}  // namespace

absl::StatusOr<int64_t> Counter::Get(const CallOptions& options) const {
  v1::CounterRequest op;
  op.mutable_get();
  auto r = CallCounter(*core_, name_, std::move(op), "get", options, /*idempotent=*/true);
  if (!r.ok()) return r.status();
  return r->value();
}

absl::StatusOr<Versioned<int64_t>> Counter::Set(int64_t value, const CallOptions& options) const {
  v1::CounterRequest op;
  op.mutable_set()->set_value(value);
  return Mutation(*core_, name_, std::move(op), "set", options);
}

absl::StatusOr<Versioned<int64_t>> Counter::Increment(int64_t delta,
                                                      const CallOptions& options) const {
  v1::CounterRequest op;
  op.mutable_add()->set_delta(delta);
  return Mutation(*core_, name_, std::move(op), "add", options);
}

absl::StatusOr<Versioned<int64_t>> Counter::Decrement(int64_t delta,
                                                      const CallOptions& options) const {
  if (delta == std::numeric_limits<int64_t>::min()) {
    return absl::InvalidArgumentError("Counter::Decrement: delta must be greater than INT64_MIN");
  }
  return Increment(-delta, options);
}

absl::StatusOr<Versioned<int64_t>> Counter::CompareAndSet(int64_t expect, int64_t update,
                                                          const CallOptions& options) const {
  v1::CounterRequest op;
  auto* cas = op.mutable_compare_and_set();
  cas->set_expect(expect);
  cas->set_update(update);
  return Mutation(*core_, name_, std::move(op), "compare_and_set", options);
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
