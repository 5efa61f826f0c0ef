// Internal: a transaction as raw bytes, behind atomix::Transaction. Not part
// of the public API; see atomix/transaction.h for the semantics.
//
// Thread-safety: plain values; CommitTxn is safe from any thread.
#ifndef ATOMIX_INTERNAL_TXN_CORE_H_
#define ATOMIX_INTERNAL_TXN_CORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "atomix/call_options.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/options.h"

namespace atomix {

struct TxnResult;

namespace internal {

class ClientCore;

// atomix.v1.PrimitiveType values of the primitives a transaction touches.
inline constexpr int kTxnCounter = 1;
inline constexpr int kTxnValue = 2;
inline constexpr int kTxnMap = 3;
inline constexpr int kTxnLock = 5;

// One comparison (atomix.v1.TxnCompare). `number` is the version, counter
// value or fence; for kExists, 1 (exists) or 0 (absent).
struct ATOMIX_EXPORT RawCompare {
  enum Check { kVersion, kValue, kExists, kCounter, kFence };
  Check check = kVersion;
  int type = 0;
  std::string name;
  std::string key;
  int64_t number = 0;
  std::string value;
};

// One write (atomix.v1.TxnWrite). `number` is the counter value or delta;
// `options` the lifetime of a put or set (ephemeral, TTL) and anything
// else the caller set, which the transaction refuses.
struct ATOMIX_EXPORT RawWrite {
  enum Op { kMapPut, kMapRemove, kValueSet, kValueDelete, kCounterSet, kCounterAdd };
  Op op = kMapPut;
  int type = 0;
  std::string name;
  std::string key;
  std::string value;
  int64_t number = 0;
  WriteOptions options;
};

struct ATOMIX_EXPORT RawTxn {
  std::vector<RawCompare> compares;
  std::vector<RawWrite> success;
  std::vector<RawWrite> failure;
  bool in_failure = false;  // where the builder adds writes
};

// Sends `txn` as one sequenced request on `core`. INVALID_ARGUMENT without
// a round trip for a write option a transaction does not take, or a null
// core.
ATOMIX_EXPORT Future<TxnResult> CommitTxn(const std::shared_ptr<ClientCore>& core,
                                          const RawTxn& txn, const CallOptions& options);

}  // namespace internal
}  // namespace atomix

#endif  // ATOMIX_INTERNAL_TXN_CORE_H_
