// Transactions: validation, comparison reads and write requests.
#include "broker-sim/src/engine/txn.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/check.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {
namespace {

absl::Status Invalid(absl::string_view where, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", problem));
}

absl::Status ValidateCompare(const v1::TxnCompare& compare,
                             const std::string& where, const Limits& limits) {
  absl::Status status = CheckName(compare.name(), limits);
  if (!status.ok()) return Invalid(where, status.message());
  const v1::PrimitiveType type = compare.type();
  const auto check = compare.check_case();
  if (check == v1::TxnCompare::CHECK_NOT_SET) {
    return Invalid(where, "no check (version, value, exists, counter, fence)");
  }
  switch (type) {
    case v1::MAP:
      status = CheckBytes("key", compare.key(), limits.max_key_bytes,
                          /*allow_empty=*/false);
      if (!status.ok()) return Invalid(where, status.message());
      [[fallthrough]];
    case v1::VALUE:
      if (type == v1::VALUE && !compare.key().empty()) {
        return Invalid(where, "a value has no key");
      }
      if (check == v1::TxnCompare::kCounter || check == v1::TxnCompare::kFence) {
        return Invalid(where, absl::StrCat("a ", TypeName(type),
                                           " compares by version, value or "
                                           "exists"));
      }
      if (check == v1::TxnCompare::kValue) {
        status = CheckBytes("value", compare.value(), limits.max_value_bytes,
                            /*allow_empty=*/true);
        if (!status.ok()) return Invalid(where, status.message());
      }
      return absl::OkStatus();
    case v1::COUNTER:
    case v1::LOCK:
      if (!compare.key().empty()) {
        return Invalid(where, absl::StrCat("a ", TypeName(type),
                                           " has no key"));
      }
      if (type == v1::COUNTER && check != v1::TxnCompare::kCounter &&
          check != v1::TxnCompare::kVersion) {
        return Invalid(where, "a counter compares by counter or version");
      }
      if (type == v1::LOCK && check != v1::TxnCompare::kFence) {
        return Invalid(where, "a lock compares only by fence");
      }
      return absl::OkStatus();
    default:
      return Invalid(where,
                     absl::StrCat("type ", v1::PrimitiveType_Name(type),
                                  " takes no part in transactions; compare a "
                                  "map, value, counter or lock"));
  }
}

// Whether the write's op matches its type.
bool OpMatchesType(const v1::TxnWrite& write) {
  switch (write.op_case()) {
    case v1::TxnWrite::kMapPut:
    case v1::TxnWrite::kMapRemove:
      return write.type() == v1::MAP;
    case v1::TxnWrite::kValueSet:
    case v1::TxnWrite::kValueDelete:
      return write.type() == v1::VALUE;
    case v1::TxnWrite::kCounterSet:
    case v1::TxnWrite::kCounterAdd:
      return write.type() == v1::COUNTER;
    case v1::TxnWrite::OP_NOT_SET:
      break;
  }
  return false;
}

// Conditions belong in comparisons.
const char* Condition(const v1::TxnWrite& write) {
  switch (write.op_case()) {
    case v1::TxnWrite::kMapPut:
      if (write.map_put().has_if_version()) return "if_version";
      if (write.map_put().has_if_fence()) return "if_fence";
      return nullptr;
    case v1::TxnWrite::kMapRemove:
      if (write.map_remove().has_if_version()) return "if_version";
      if (write.map_remove().has_if_fence()) return "if_fence";
      return nullptr;
    case v1::TxnWrite::kValueSet:
      if (write.value_set().has_if_version()) return "if_version";
      if (write.value_set().has_if_fence()) return "if_fence";
      return nullptr;
    case v1::TxnWrite::kValueDelete:
      if (write.value_delete().has_if_version()) return "if_version";
      if (write.value_delete().has_if_fence()) return "if_fence";
      return nullptr;
    default:
      return nullptr;
  }
}

absl::Status ValidateWrite(const v1::TxnWrite& write, const std::string& where,
                           uint64_t session_id, const Limits& limits) {
  if (write.op_case() == v1::TxnWrite::OP_NOT_SET) {
    return Invalid(where, "no operation");
  }
  if (!OpMatchesType(write)) {
    return Invalid(where, absl::StrCat("type is ",
                                       v1::PrimitiveType_Name(write.type()),
                                       " but the operation is not for it"));
  }
  if (const char* condition = Condition(write)) {
    return Invalid(where, absl::StrCat("a write takes no ", condition,
                                       "; put the condition in a comparison"));
  }
  absl::Status status = CheckName(write.name(), limits);
  if (!status.ok()) return Invalid(where, status.message());
  const v1::Request request = WriteRequest(write, session_id);
  const PrimitiveSpec* spec = PrimitiveOf(request);
  status = spec->validate(request, limits);
  if (!status.ok()) return Invalid(where, status.message());
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTxn(const v1::Request& request, const Limits& limits) {
  const v1::TxnRequest& txn = request.txn();
  if (txn.compare_size() > kMaxTxnSteps || txn.success_size() > kMaxTxnSteps ||
      txn.failure_size() > kMaxTxnSteps) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a transaction has ", txn.compare_size(), " comparisons, ",
        txn.success_size(), " success and ", txn.failure_size(),
        " failure writes; the limit is ", kMaxTxnSteps, " of each"));
  }
  if (request.timeout_ms() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "timeout_ms is ", request.timeout_ms(), "; it must not be negative"));
  }
  for (int i = 0; i < txn.compare_size(); ++i) {
    absl::Status status =
        ValidateCompare(txn.compare(i), absl::StrCat("compare ", i), limits);
    if (!status.ok()) return status;
  }
  for (const auto* branch : {&txn.success(), &txn.failure()}) {
    const char* label = branch == &txn.success() ? "success" : "failure";
    absl::flat_hash_map<std::string, v1::PrimitiveType> types;
    for (int i = 0; i < branch->size(); ++i) {
      const v1::TxnWrite& write = (*branch)[i];
      const std::string where = absl::StrCat(label, " write ", i);
      absl::Status status =
          ValidateWrite(write, where, request.session_id(), limits);
      if (!status.ok()) return status;
      auto [type, first] = types.try_emplace(write.name(), write.type());
      if (!first && type->second != write.type()) {
        return Invalid(where, absl::StrCat(QuoteName(write.name()),
                                           " is written as a ",
                                           TypeName(type->second), " and as a ",
                                           TypeName(write.type())));
      }
    }
  }
  return absl::OkStatus();
}

v1::Request CompareRead(const v1::TxnCompare& compare) {
  v1::Request read;
  read.set_type(compare.type());
  read.set_name(compare.name());
  switch (compare.type()) {
    case v1::MAP:
      read.mutable_map()->mutable_get()->set_key(compare.key());
      break;
    case v1::VALUE:
      read.mutable_value()->mutable_get();
      break;
    case v1::COUNTER:
      read.mutable_counter()->mutable_get();
      break;
    case v1::LOCK:
      read.mutable_lock()->mutable_get();
      break;
    default:
      break;
  }
  return read;
}

Observed Observe(v1::PrimitiveType type, const v1::Response& answer) {
  Observed seen;
  switch (type) {
    case v1::MAP:
      seen.present = answer.map().present();
      if (seen.present) {
        seen.value = answer.map().entry().value();
        seen.version = answer.map().entry().version();
      }
      break;
    case v1::VALUE:
      seen.present = answer.value().present();
      if (seen.present) {
        seen.value = answer.value().value();
        seen.version = answer.value().version();
      }
      break;
    case v1::COUNTER:
      seen.counter = answer.counter().value();
      seen.version = answer.counter().version();
      break;
    case v1::LOCK:
      seen.fence = answer.lock().version();
      break;
    default:
      break;
  }
  return seen;
}

std::string Evaluate(const v1::TxnCompare& compare, const Observed& seen) {
  std::string what = absl::StrCat(TypeName(compare.type()), " ",
                                  QuoteName(compare.name()));
  if (compare.type() == v1::MAP) {
    absl::StrAppend(&what, " key ", QuoteBytes(compare.key()));
  }
  switch (compare.check_case()) {
    case v1::TxnCompare::kVersion:
      if (seen.version == compare.version()) return {};
      if (compare.type() != v1::COUNTER && !seen.present) {
        return absl::StrCat(what, " is absent, not at version ",
                            compare.version());
      }
      return absl::StrCat(what, " has version ", seen.version, ", not ",
                          compare.version());
    case v1::TxnCompare::kValue:
      if (seen.present && seen.value == compare.value()) return {};
      if (!seen.present) return absl::StrCat(what, " is absent");
      return absl::StrCat(what, " holds ", QuoteBytes(seen.value), ", not ",
                          QuoteBytes(compare.value()));
    case v1::TxnCompare::kExists:
      if (seen.present == compare.exists()) return {};
      return absl::StrCat(what, seen.present ? " exists" : " is absent");
    case v1::TxnCompare::kCounter:
      if (seen.counter == compare.counter()) return {};
      return absl::StrCat(what, " is ", seen.counter, ", not ",
                          compare.counter());
    case v1::TxnCompare::kFence:
      if (seen.fence == compare.fence()) return {};
      return absl::StrCat(what, seen.fence == 0
                                    ? std::string(" is free")
                                    : absl::StrCat(" is held at fence ",
                                                   seen.fence),
                          compare.fence() == 0
                              ? std::string(", not free")
                              : absl::StrCat(", not at fence ",
                                             compare.fence()));
    case v1::TxnCompare::CHECK_NOT_SET:
      break;
  }
  return absl::StrCat(what, ": no check");
}

v1::Request WriteRequest(const v1::TxnWrite& write, uint64_t session_id) {
  v1::Request request;
  request.set_type(write.type());
  request.set_name(write.name());
  request.set_session_id(session_id);
  switch (write.op_case()) {
    case v1::TxnWrite::kMapPut:
      *request.mutable_map()->mutable_put() = write.map_put();
      break;
    case v1::TxnWrite::kMapRemove:
      *request.mutable_map()->mutable_remove() = write.map_remove();
      break;
    case v1::TxnWrite::kValueSet:
      *request.mutable_value()->mutable_set() = write.value_set();
      break;
    case v1::TxnWrite::kValueDelete:
      *request.mutable_value()->mutable_delete_() = write.value_delete();
      break;
    case v1::TxnWrite::kCounterSet:
      *request.mutable_counter()->mutable_set() = write.counter_set();
      break;
    case v1::TxnWrite::kCounterAdd:
      *request.mutable_counter()->mutable_add() = write.counter_add();
      break;
    case v1::TxnWrite::OP_NOT_SET:
      break;
  }
  return request;
}

bool PreviousRead(const v1::TxnWrite& write, v1::Request& read) {
  read.set_type(write.type());
  read.set_name(write.name());
  switch (write.op_case()) {
    case v1::TxnWrite::kMapPut:
      read.mutable_map()->mutable_get()->set_key(write.map_put().key());
      return true;
    case v1::TxnWrite::kMapRemove:
      read.mutable_map()->mutable_get()->set_key(write.map_remove().key());
      return true;
    case v1::TxnWrite::kValueSet:
    case v1::TxnWrite::kValueDelete:
      read.mutable_value()->mutable_get();
      return true;
    default:
      return false;
  }
}

bool IsRemoval(const v1::TxnWrite& write) {
  return write.op_case() == v1::TxnWrite::kMapRemove ||
         write.op_case() == v1::TxnWrite::kValueDelete;
}

}  // namespace atomix::broker
