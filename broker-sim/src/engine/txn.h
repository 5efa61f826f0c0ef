// Transactions (atomix.v1.TxnRequest): the pieces the validator and the
// engine share. A comparison becomes a read request to its primitive's
// state machine, whose answer is reduced to an Observed; a write becomes
// the primitive's own request, validated and applied like any other. So a
// transaction reuses every machine unchanged, and the engine only orders
// the steps (see Engine::ApplyTxn).
//
//   v1::Request read = CompareRead(compare);       // map { get { key } }
//   v1::Response answer;  machine->Apply(read, ctx, answer);
//   std::string why = Evaluate(compare, Observe(compare.type(), answer));
//   if (!why.empty()) ...;                         // it did not hold
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_BROKER_ENGINE_TXN_H_
#define ATOMIX_BROKER_ENGINE_TXN_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/state/limits.h"

namespace atomix::broker {

// At most this many comparisons, and writes per branch.
inline constexpr int kMaxTxnSteps = 128;

// OK, or INVALID_ARGUMENT naming the comparison or write and the problem:
//   compare 2: a lock compares only by fence
//   success write 0: map "m": key is empty
//   success write 1: map_put takes no if_version; compare the version instead
absl::Status ValidateTxn(const v1::Request& request, const Limits& limits);

// The read that shows what `compare` looks at: map get, value get,
// counter get or lock get.
v1::Request CompareRead(const v1::TxnCompare& compare);

// What a comparison's read saw.
struct Observed {
  bool present = false;  // MAP, VALUE: the entry exists
  std::string value;     // MAP, VALUE: its bytes
  int64_t version = 0;   // MAP, VALUE: the entry's; COUNTER: last change
  int64_t counter = 0;   // COUNTER
  int64_t fence = 0;     // LOCK: the holder's fence, 0 if free
};
Observed Observe(v1::PrimitiveType type, const v1::Response& answer);

// Empty if `compare` holds for `seen`; otherwise why not, e.g.
//   map "accounts" key "alice" has version 7, not 5
std::string Evaluate(const v1::TxnCompare& compare, const Observed& seen);

// The primitive request that carries `write`, on behalf of `session_id`.
v1::Request WriteRequest(const v1::TxnWrite& write, uint64_t session_id);

// Whether `write` removes (map_remove, value_delete): it changes nothing
// when the entry is absent.
bool IsRemoval(const v1::TxnWrite& write);

// The read of the entry a map or value write replaces (map get of its key,
// value get), whose answer Observe() turns into the entry before the write;
// false for counter writes, which replace no entry.
bool PreviousRead(const v1::TxnWrite& write, v1::Request& read);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_ENGINE_TXN_H_
