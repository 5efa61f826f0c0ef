// Internal to primitives/: sending one primitive request and turning its
// answer into the operation's result, as a Future (atomix/future.h).
//
// Every operation is written once, in its asynchronous form; the blocking
// form is OpAsync(...).get(). The conversion from the broker's answer runs
// when the result is taken, on the consumer's thread (the caller in get(),
// or the callback executor), never on the SDK's reader thread.
//
// Thread-safety: pure functions over a thread-safe ClientCore.
#ifndef ATOMIX_PRIMITIVES_SRC_SEND_H_
#define ATOMIX_PRIMITIVES_SRC_SEND_H_

#include <string>
#include <type_traits>
#include <utility>

#include "atomix/future.h"
#include "primitives/src/request.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {

// One primitive's operations on the wire: its kind, the Request field that
// carries its op (mutable_map, ...) and the Response field that carries its
// result (has_map / mutable_map). Each primitive defines one, as a constant
// beside its proxy.
template <class Op, class Part>
struct OpWire {
  PrimitiveKind kind;
  Op* (v1::Request::*request_op)();
  bool (v1::Response::*has_part)() const;
  Part* (v1::Response::*part)();
};

// Sends the operation `op` (named `op_name` in errors) on the primitive
// `name` and completes with convert(part) of the answer's part: a
// Result<T> built from Part& (and, if it takes one, the answer's revision
// as an int64_t). INTERNAL (MissingResult) when the answer lacks the part.
template <class T, class Op, class Part, class F>
Future<T> CallOp(ClientCore& core, const OpWire<Op, Part>& wire, const std::string& name, Op op,
                 const char* op_name, const CallOptions& options, CallKind call, F convert) {
  v1::Request request = NewRequest(wire.kind, name);
  *(request.*wire.request_op)() = std::move(op);
  Future<v1::Response> answer(core.CallAsync(std::move(request), options, std::move(call)));
  return MapFuture<T>(std::move(answer),
                      [wire, name, op_name,
                       convert = std::move(convert)](absl::StatusOr<v1::Response> r) -> Result<T> {
                        if (!r.ok()) return r.status();
                        if (!((*r).*wire.has_part)())
                          return MissingResult(wire.kind, name, op_name);
                        if constexpr (std::is_invocable_v<F&, Part&, int64_t>) {
                          return convert(*((*r).*wire.part)(), r->revision());
                        } else {
                          return convert(*((*r).*wire.part)());
                        }
                      });
}

// A future that failed before anything was sent (bad arguments). Its
// continuations run on `core`'s executor like any call's (inline without a
// core).
template <class T>
Future<T> Refused(const ClientCore* core, absl::Status status) {
  auto state = std::make_shared<ValueState<T>>(core != nullptr ? core->executor() : nullptr);
  state->SetValue(std::move(status));
  return Future<T>(std::move(state));
}

}  // namespace atomix::internal

#endif  // ATOMIX_PRIMITIVES_SRC_SEND_H_
