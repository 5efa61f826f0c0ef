// The primitive registry: the one place that lists the broker's primitives.
//
// Each primitive describes itself in a PrimitiveSpec defined beside its
// state machine (counter.cc, map.cc, ...): its type and name, the Request
// field that carries its operations, its factory, its request validation,
// and which of its writes carry fences or leave something a session owns.
// The validator, the store and the server ask the registry instead of
// switching on types. Adding a primitive means its own files plus one row in
// registry.cc.
//
//   const PrimitiveSpec* spec = FindPrimitive(request.type());
//   if (spec == nullptr) ...;                     // unknown type
//   std::unique_ptr<StateMachine> machine = spec->make();
//
// Thread-safety: the registry is immutable; every function is safe from any
// thread.
#ifndef ATOMIX_BROKER_STATE_REGISTRY_H_
#define ATOMIX_BROKER_STATE_REGISTRY_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/state/limits.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

// What a request needs its caller to hold on the name it acts on, under an
// access policy (core/access_policy.h): kRead to look, kWrite to change
// data, kLock to take part in coordination (acquire and release one's own
// grants, enter an election, await a latch or barrier), kAdmin to act on
// what others hold.
enum class AccessRight { kRead, kWrite, kLock, kAdmin };

struct PrimitiveSpec {
  v1::PrimitiveType type = v1::PRIMITIVE_TYPE_UNSPECIFIED;
  // "counter"; and with its article, for messages: "a counter".
  absl::string_view name;
  absl::string_view a_name;
  // The Request.op field that carries this primitive's operations.
  v1::Request::OpCase op = v1::Request::OP_NOT_SET;
  // A new, empty state machine.
  std::unique_ptr<StateMachine> (*make)() = nullptr;
  // Checks an operation of this primitive (the op field is set): OK, or
  // INVALID_ARGUMENT naming the problem. Name, type and timeout are checked
  // by the caller.
  absl::Status (*validate)(const v1::Request& request,
                           const Limits& limits) = nullptr;
  // The fence a write carries, or nullptr. Null for primitives whose writes
  // carry none.
  const v1::Fence* (*fence_of)(const v1::Request& request) = nullptr;
  // Whether its grants have fences that writes of other primitives may
  // carry (StateMachine::FenceHolds).
  bool grants_fences = false;
  // Whether a request with a session may leave something that the session
  // owns (a lock, a candidacy, an ephemeral entry). Null: never.
  bool (*session_owned)(const v1::Request& request) = nullptr;
  // Whether its watches may filter by key or key prefix (its events carry
  // entries with keys).
  bool key_filters = false;
  // Whether its machines may have deadlines (StateMachine::NextDeadline).
  bool has_timers = false;
  // Whether a waiting request with a session stays when the stream that
  // sent it closes (a barrier party stays arrived, a latch await waits, until
  // it is answered, times out, is cancelled or its session ends). False:
  // the stream's waiting requests are withdrawn with it.
  bool waits_outlive_streams = false;
  // Whether `request` only reads: it changes no state whatever it finds.
  bool (*is_read)(const v1::Request& request) = nullptr;
  // The access right a request that is not a read (is_read) needs on the
  // primitive's name. Null: kWrite. Reads always need kRead.
  AccessRight (*right_of)(const v1::Request& request) = nullptr;
};

// Every registered primitive, in type order.
absl::Span<const PrimitiveSpec* const> Primitives();

// The primitive of `type`, or nullptr if the type is unspecified or unknown.
const PrimitiveSpec* FindPrimitive(v1::PrimitiveType type);

// The primitive whose operation `request` carries, or nullptr for requests
// that belong to no primitive (open, session, cancel, none).
const PrimitiveSpec* PrimitiveOf(const v1::Request& request);

// Helpers for specs.
template <typename Machine>
std::unique_ptr<StateMachine> Make() {
  return std::make_unique<Machine>();
}
inline bool AlwaysOwned(const v1::Request&) { return true; }
inline AccessRight NeedsLock(const v1::Request&) { return AccessRight::kLock; }

// Each primitive's spec, defined beside its state machine.
const PrimitiveSpec& CounterPrimitive();
const PrimitiveSpec& ValuePrimitive();
const PrimitiveSpec& MapPrimitive();
const PrimitiveSpec& SetPrimitive();
const PrimitiveSpec& LockPrimitive();
const PrimitiveSpec& ElectionPrimitive();
const PrimitiveSpec& CounterMapPrimitive();
const PrimitiveSpec& MultiMapPrimitive();
const PrimitiveSpec& ListPrimitive();
const PrimitiveSpec& IndexedMapPrimitive();
const PrimitiveSpec& SemaphorePrimitive();
const PrimitiveSpec& ReadWriteLockPrimitive();
const PrimitiveSpec& WorkQueuePrimitive();
const PrimitiveSpec& LatchPrimitive();
const PrimitiveSpec& BarrierPrimitive();

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_REGISTRY_H_
