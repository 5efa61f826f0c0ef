#include "atomix/internal/value_core.h"

#include "primitives/src/request.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

absl::StatusOr<v1::ValueResponse> CallValue(ClientCore& core, const std::string& name,
                                            v1::ValueRequest op, const char* op_name,
                                            const CallOptions& options, bool idempotent) {
  v1::Request request = NewRequest(PrimitiveKind::kValue, name);
  *request.mutable_value() = std::move(op);
  absl::StatusOr<v1::Response> response = core.Call(std::move(request), options, idempotent);
  if (!response.ok()) return response.status();
  if (!response->has_value()) return MissingResult(PrimitiveKind::kValue, name, op_name);
  return std::move(*response->mutable_value());
}

}  // namespace

absl::StatusOr<ValueCore> ValueCore::Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                          const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, PrimitiveKind::kValue, name, options);
  if (!opened.ok()) return opened;
  return ValueCore(std::move(core), std::string(name));
}

absl::StatusOr<std::optional<Versioned<std::string>>> ValueCore::Get(
    const CallOptions& options) const {
  v1::ValueRequest op;
  op.mutable_get();
  auto r = CallValue(*core_, name_, std::move(op), "get", options, /*idempotent=*/true);
  if (!r.ok()) return r.status();
  if (!r->present()) return std::optional<Versioned<std::string>>();
  return std::optional<Versioned<std::string>>(
      Versioned<std::string>{std::move(*r->mutable_value()), r->version()});
}

absl::StatusOr<Version> ValueCore::Set(std::string value, const WriteOptions& options) const {
  absl::Status ok = CheckWriteOptions(options, {.conditions = true, .lifetime = true},
                                      PrimitiveKind::kValue, name_, "Set");
  if (!ok.ok()) return ok;
  v1::ValueRequest op;
  auto* set = op.mutable_set();
  set->set_value(std::move(value));
  SetConditions(options, *set);
  SetLifetime(options, *set);
  auto r = CallValue(*core_, name_, std::move(op), "set", options, /*idempotent=*/false);
  if (!r.ok()) return r.status();
  return r->version();
}

absl::StatusOr<Version> ValueCore::Insert(std::string value, const WriteOptions& options) const {
  absl::Status ok = CheckWriteOptions(options, {.conditions = false, .lifetime = true},
                                      PrimitiveKind::kValue, name_, "Insert");
  if (!ok.ok()) return ok;
  v1::ValueRequest op;
  auto* insert = op.mutable_insert();
  insert->set_value(std::move(value));
  SetLifetime(options, *insert);
  auto r = CallValue(*core_, name_, std::move(op), "insert", options, /*idempotent=*/false);
  if (!r.ok()) return r.status();
  return r->version();
}

absl::StatusOr<Version> ValueCore::Delete(const WriteOptions& options) const {
  absl::Status ok = CheckWriteOptions(options, {.conditions = true, .lifetime = false},
                                      PrimitiveKind::kValue, name_, "Delete");
  if (!ok.ok()) return ok;
  v1::ValueRequest op;
  auto* del = op.mutable_delete_();
  SetConditions(options, *del);
  auto r = CallValue(*core_, name_, std::move(op), "delete", options, /*idempotent=*/false);
  if (!r.ok()) return r.status();
  return r->version();
}

}  // namespace atomix::internal
