// atomix::Transaction on the wire: one sequenced TxnRequest.
#include "atomix/transaction.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "atomix/v1/txn.pb.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

static_assert(kTxnCounter == v1::COUNTER && kTxnValue == v1::VALUE && kTxnMap == v1::MAP &&
              kTxnLock == v1::LOCK);

// A transaction names no primitive: the broker ignores the envelope's type
// and name.
constexpr PrimitiveKind kTxnKind{v1::PRIMITIVE_TYPE_UNSPECIFIED, "transaction"};
constexpr OpWire<v1::TxnRequest, v1::TxnResponse> kTxnWire{
    kTxnKind, &v1::Request::mutable_txn, &v1::Response::has_txn, &v1::Response::mutable_txn};

v1::TxnCompare ToWire(const RawCompare& raw) {
  v1::TxnCompare out;
  out.set_type(static_cast<v1::PrimitiveType>(raw.type));
  out.set_name(raw.name);
  out.set_key(raw.key);
  switch (raw.check) {
    case RawCompare::kVersion:
      out.set_version(raw.number);
      break;
    case RawCompare::kValue:
      out.set_value(raw.value);
      break;
    case RawCompare::kExists:
      out.set_exists(raw.number != 0);
      break;
    case RawCompare::kCounter:
      out.set_counter(raw.number);
      break;
    case RawCompare::kFence:
      out.set_fence(raw.number);
      break;
  }
  return out;
}

// The wire write, or INVALID_ARGUMENT for options the write does not take.
absl::Status ToWire(const RawWrite& raw, v1::TxnWrite& out) {
  out.set_type(static_cast<v1::PrimitiveType>(raw.type));
  out.set_name(raw.name);
  const bool lifetime = raw.op == RawWrite::kMapPut || raw.op == RawWrite::kValueSet;
  const PrimitiveKind kind{raw.type, raw.type == kTxnMap ? "map" : "value"};
  absl::Status ok = CheckWriteOptions(raw.options, {.conditions = false, .lifetime = lifetime},
                                      kind, raw.name, "a transaction write");
  if (!ok.ok()) return ok;
  switch (raw.op) {
    case RawWrite::kMapPut: {
      v1::MapPut* put = out.mutable_map_put();
      put->set_key(raw.key);
      put->set_value(raw.value);
      SetLifetime(raw.options, *put);
      break;
    }
    case RawWrite::kMapRemove:
      out.mutable_map_remove()->set_key(raw.key);
      break;
    case RawWrite::kValueSet: {
      v1::ValueSet* set = out.mutable_value_set();
      set->set_value(raw.value);
      SetLifetime(raw.options, *set);
      break;
    }
    case RawWrite::kValueDelete:
      out.mutable_value_delete();
      break;
    case RawWrite::kCounterSet:
      out.mutable_counter_set()->set_value(raw.number);
      break;
    case RawWrite::kCounterAdd:
      out.mutable_counter_add()->set_delta(raw.number);
      break;
  }
  return absl::OkStatus();
}

TxnResult FromWire(v1::TxnResponse& wire, int64_t revision) {
  TxnResult result;
  result.succeeded = wire.succeeded();
  result.failed_compare = wire.failed_compare();
  result.failure = std::move(*wire.mutable_failure());
  result.revision = revision;
  result.results.reserve(wire.results_size());
  for (const v1::TxnWriteResult& w : wire.results()) {
    result.results.push_back(TxnWriteResult{w.changed(), w.previous().version(), w.counter()});
  }
  return result;
}

}  // namespace

Future<TxnResult> CommitTxn(const std::shared_ptr<ClientCore>& core, const RawTxn& txn,
                            const CallOptions& options) {
  if (core == nullptr) return Refused<TxnResult>(nullptr, NoCore());
  v1::TxnRequest op;
  for (const RawCompare& c : txn.compares) *op.add_compare() = ToWire(c);
  for (const auto* branch : {&txn.success, &txn.failure}) {
    for (const RawWrite& w : *branch) {
      v1::TxnWrite* out = branch == &txn.success ? op.add_success() : op.add_failure();
      absl::Status ok = ToWire(w, *out);
      if (!ok.ok()) return Refused<TxnResult>(core.get(), std::move(ok));
    }
  }
  return CallOp<TxnResult>(*core, kTxnWire, std::string(), std::move(op), "txn", options,
                           CallKind{},
                           [](v1::TxnResponse& r, int64_t revision) { return FromWire(r, revision); });
}

}  // namespace internal
