#include "atomix/internal/value_core.h"

#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

static_assert(kValueKind.wire_type == v1::VALUE);
constexpr OpWire<v1::ValueRequest, v1::ValueResponse> kValueWire{
    kValueKind, &v1::Request::mutable_value, &v1::Response::has_value,
    &v1::Response::mutable_value};

Future<Version> SendWrite(ClientCore& core, const std::string& name, v1::ValueRequest op,
                          const char* op_name, const CallOptions& options) {
  return CallOp<Version>(core, kValueWire, name, std::move(op), op_name, options,
                         CallKind{.idempotent = false},
                         [](v1::ValueResponse& r) { return r.version(); });
}

}  // namespace

absl::StatusOr<ValueCore> ValueCore::Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                          const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kValueKind, name, options);
  if (!opened.ok()) return opened;
  return ValueCore(std::move(core), std::string(name));
}

Future<std::optional<Versioned<std::string>>> ValueCore::GetAsync(
    const CallOptions& options) const {
  v1::ValueRequest op;
  op.mutable_get();
  return CallOp<std::optional<Versioned<std::string>>>(
      *core_, kValueWire, name_, std::move(op), "get", options, CallKind{.idempotent = true},
      [](v1::ValueResponse& r) -> std::optional<Versioned<std::string>> {
        if (!r.present()) return std::nullopt;
        return Versioned<std::string>{std::move(*r.mutable_value()), r.version()};
      });
}

Future<Version> ValueCore::SetAsync(std::string value, const WriteOptions& options) const {
  absl::Status ok =
      CheckWriteOptions(options, {.conditions = true, .lifetime = true}, kValueKind, name_, "Set");
  if (!ok.ok()) return Refused<Version>(core_.get(), std::move(ok));
  v1::ValueRequest op;
  auto* set = op.mutable_set();
  set->set_value(std::move(value));
  SetConditions(options, *set);
  SetLifetime(options, *set);
  return SendWrite(*core_, name_, std::move(op), "set", options);
}

Future<Version> ValueCore::InsertAsync(std::string value, const WriteOptions& options) const {
  absl::Status ok = CheckWriteOptions(options, {.conditions = false, .lifetime = true}, kValueKind,
                                      name_, "Insert");
  if (!ok.ok()) return Refused<Version>(core_.get(), std::move(ok));
  v1::ValueRequest op;
  auto* insert = op.mutable_insert();
  insert->set_value(std::move(value));
  SetLifetime(options, *insert);
  return SendWrite(*core_, name_, std::move(op), "insert", options);
}

Future<Version> ValueCore::DeleteAsync(const WriteOptions& options) const {
  absl::Status ok = CheckWriteOptions(options, {.conditions = true, .lifetime = false}, kValueKind,
                                      name_, "Delete");
  if (!ok.ok()) return Refused<Version>(core_.get(), std::move(ok));
  v1::ValueRequest op;
  SetConditions(options, *op.mutable_delete_());
  return SendWrite(*core_, name_, std::move(op), "delete", options);
}

}  // namespace atomix::internal
