// Transaction: compare several Maps, Values, Counters and Locks, then write
// several Maps, Values and Counters, atomically at one broker revision, as
// etcd's Txn does.
//
//   // Move 40 from alice to bob, unless either balance moved meanwhile.
//   auto a = accounts->Get("alice");   // StatusOr<optional<Versioned<int64_t>>>
//   auto b = accounts->Get("bob");
//   absl::StatusOr<atomix::TxnResult> r =
//       atomix::Transaction(client)
//           .IfVersion(*accounts, "alice", (*a)->version)
//           .IfVersion(*accounts, "bob", (*b)->version)
//           .Put(*accounts, "alice", (*a)->value - 40)
//           .Put(*accounts, "bob", (*b)->value + 40)
//           .Increment(*transfers)
//           .Else()
//           .Increment(*conflicts)
//           .Commit();
//   if (r.ok() && !r->succeeded) std::cout << "retry: " << r->failure;
//
// Semantics:
// - The comparisons (If...) are checked in order against the state at the
//   transaction's revision. If all hold, the writes before Else() are
//   applied; otherwise the writes after it (none without Else()).
//   TxnResult says which comparison failed first, and why.
// - All writes of the branch apply at one revision, or none does: a
//   transaction that fails with an error changed nothing. Watchers of every
//   primitive written see its events at that one revision.
// - A name nobody used yet compares as empty: entry absent (version 0),
//   counter 0, lock free. Removing an absent entry changes nothing.
// - Writes take no IfVersion or IfFence (put those conditions in If...);
//   Put and Set take WithEphemeral() and WithTTL(). The transaction goes
//   through this client's session, exactly once like any write.
// - At most 128 comparisons and 128 writes per branch.
//
// Errors (the status of Commit, not TxnResult): INVALID_ARGUMENT naming the
// comparison or write ("success write 1: key is empty") for bad input or a
// write option a transaction does not take; FAILED_PRECONDITION when a name
// is bound to another primitive type; OUT_OF_RANGE when a counter would
// leave the int64 range; plus the transport codes of every call.
//
// Thread-safety: a Transaction is a builder owned by one thread; Commit and
// CommitAsync may be called more than once, and each call sends the
// transaction as built so far. The primitives named may come from any
// client: only their names are used, and the transaction runs on the
// client it was made with.
#ifndef ATOMIX_TRANSACTION_H_
#define ATOMIX_TRANSACTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/client.h"
#include "atomix/counter.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/internal/txn_core.h"
#include "atomix/lock.h"
#include "atomix/map.h"
#include "atomix/options.h"
#include "atomix/value.h"
#include "atomix/versioned.h"

namespace atomix {

// What one write of the applied branch did.
struct ATOMIX_EXPORT TxnWriteResult {
  // Whether it changed anything (false for removing an absent entry).
  bool changed = false;
  // Map and Value writes: the version of the entry it replaced or removed;
  // 0 if there was none.
  Version previous_version = 0;
  // Counter writes: the value after the write.
  int64_t counter = 0;
};

// The outcome of a transaction that the broker applied.
struct ATOMIX_EXPORT TxnResult {
  // Whether every comparison held, so the writes before Else() applied.
  bool succeeded = false;
  // The index of the first comparison that did not hold (in If... order);
  // -1 if all held.
  int failed_compare = -1;
  // Why it did not hold, e.g. `map "accounts" key "alice" has version 7,
  // not 5`; empty if all held.
  std::string failure;
  // The revision of the transaction's writes (the current revision if it
  // wrote nothing).
  Version revision = 0;
  // One result per write of the applied branch, in order.
  std::vector<TxnWriteResult> results;
};

class ATOMIX_EXPORT Transaction {
 public:
  // A transaction on `client`'s connection, or on DefaultClient().
  explicit Transaction(const Client& client) : core_(internal_core(client)) {}
  Transaction() : Transaction(DefaultClient()) {}

  // Map comparisons: the entry of `key` has `version` (0: absent), holds
  // `value`, exists, or is absent.
  template <class K, class V, class KC, class VC>
  Transaction& IfVersion(const Map<K, V, KC, VC>& map, const std::type_identity_t<K>& key, Version version) {
    return Compare(internal::RawCompare::kVersion, kMap, map.name(), KC::Encode(key), version);
  }
  template <class K, class V, class KC, class VC>
  Transaction& IfValue(const Map<K, V, KC, VC>& map, const std::type_identity_t<K>& key, const std::type_identity_t<V>& value) {
    return CompareBytes(kMap, map.name(), KC::Encode(key), VC::Encode(value));
  }
  template <class K, class V, class KC, class VC>
  Transaction& IfExists(const Map<K, V, KC, VC>& map, const std::type_identity_t<K>& key) {
    return Compare(internal::RawCompare::kExists, kMap, map.name(), KC::Encode(key), 1);
  }
  template <class K, class V, class KC, class VC>
  Transaction& IfAbsent(const Map<K, V, KC, VC>& map, const std::type_identity_t<K>& key) {
    return Compare(internal::RawCompare::kExists, kMap, map.name(), KC::Encode(key), 0);
  }

  // Value comparisons, as for a map entry.
  template <class T, class C>
  Transaction& IfVersion(const Value<T, C>& value, Version version) {
    return Compare(internal::RawCompare::kVersion, kValue, value.name(), {}, version);
  }
  template <class T, class C>
  Transaction& IfValue(const Value<T, C>& value, const std::type_identity_t<T>& expect) {
    return CompareBytes(kValue, value.name(), {}, C::Encode(expect));
  }
  template <class T, class C>
  Transaction& IfExists(const Value<T, C>& value) {
    return Compare(internal::RawCompare::kExists, kValue, value.name(), {}, 1);
  }
  template <class T, class C>
  Transaction& IfAbsent(const Value<T, C>& value) {
    return Compare(internal::RawCompare::kExists, kValue, value.name(), {}, 0);
  }

  // Counter comparisons: its value is `value`; its last change was at
  // `version`.
  Transaction& IfCounter(const Counter& counter, int64_t value) {
    return Compare(internal::RawCompare::kCounter, kCounter, counter.name(), {}, value);
  }
  Transaction& IfVersion(const Counter& counter, Version version) {
    return Compare(internal::RawCompare::kVersion, kCounter, counter.name(), {}, version);
  }

  // Lock comparisons: the lock is held by the grant `fence` (the fencing
  // check of a write made under a lock), or is free.
  Transaction& IfHeld(const Lock& lock, Fence fence) {
    return Compare(internal::RawCompare::kFence, kLock, lock.name(), {}, fence.version);
  }
  Transaction& IfFree(const Lock& lock) {
    return Compare(internal::RawCompare::kFence, kLock, lock.name(), {}, 0);
  }

  // Writes, to the branch being built: the success branch, or after Else()
  // the failure branch.
  template <class K, class V, class KC, class VC>
  Transaction& Put(const Map<K, V, KC, VC>& map, const std::type_identity_t<K>& key, const std::type_identity_t<V>& value,
                   const WriteOptions& options = {}) {
    return Write(internal::RawWrite::kMapPut, kMap, map.name(), KC::Encode(key),
                 VC::Encode(value), 0, &options);
  }
  template <class K, class V, class KC, class VC>
  Transaction& Remove(const Map<K, V, KC, VC>& map, const std::type_identity_t<K>& key) {
    return Write(internal::RawWrite::kMapRemove, kMap, map.name(), KC::Encode(key), {}, 0);
  }
  template <class T, class C>
  Transaction& Set(const Value<T, C>& value, const std::type_identity_t<T>& to, const WriteOptions& options = {}) {
    return Write(internal::RawWrite::kValueSet, kValue, value.name(), {}, C::Encode(to), 0,
                 &options);
  }
  template <class T, class C>
  Transaction& Delete(const Value<T, C>& value) {
    return Write(internal::RawWrite::kValueDelete, kValue, value.name(), {}, {}, 0);
  }
  Transaction& Set(const Counter& counter, int64_t value) {
    return Write(internal::RawWrite::kCounterSet, kCounter, counter.name(), {}, {}, value);
  }
  Transaction& Increment(const Counter& counter, int64_t delta = 1) {
    return Write(internal::RawWrite::kCounterAdd, kCounter, counter.name(), {}, {}, delta);
  }

  // The writes that follow go to the failure branch, applied when a
  // comparison does not hold.
  Transaction& Else() {
    txn_.in_failure = true;
    return *this;
  }

  // Sends the transaction and waits for its result.
  absl::StatusOr<TxnResult> Commit(const CallOptions& options = {}) const {
    return CommitAsync(options).get();
  }
  Future<TxnResult> CommitAsync(const CallOptions& options = {}) const {
    return internal::CommitTxn(core_, txn_, options);
  }

 private:
  static constexpr int kCounter = internal::kTxnCounter, kValue = internal::kTxnValue,
                       kMap = internal::kTxnMap, kLock = internal::kTxnLock;

  Transaction& Compare(internal::RawCompare::Check check, int type, const std::string& name,
                       std::string key, int64_t number) {
    txn_.compares.push_back(
        internal::RawCompare{check, type, name, std::move(key), number, std::string()});
    return *this;
  }
  Transaction& CompareBytes(int type, const std::string& name, std::string key,
                            std::string value) {
    txn_.compares.push_back(internal::RawCompare{internal::RawCompare::kValue, type, name,
                                                 std::move(key), 0, std::move(value)});
    return *this;
  }
  Transaction& Write(internal::RawWrite::Op op, int type, const std::string& name,
                     std::string key, std::string value, int64_t number,
                     const WriteOptions* options = nullptr) {
    internal::RawWrite write{op, type, name, std::move(key), std::move(value), number,
                             options != nullptr ? *options : WriteOptions{}};
    (txn_.in_failure ? txn_.failure : txn_.success).push_back(std::move(write));
    return *this;
  }

  std::shared_ptr<internal::ClientCore> core_;
  internal::RawTxn txn_;
};

}  // namespace atomix

#endif  // ATOMIX_TRANSACTION_H_
