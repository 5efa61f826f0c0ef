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
#include <utility>

#include "atomix/future.h"
#include "primitives/src/request.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {

// Where a primitive's part of a Response is: has_map / mutable_map, ...
template <class Part>
struct ResponsePart {
  bool (v1::Response::*has)() const;
  Part* (v1::Response::*get)();
};

// Sends `request` (for primitive `name` of `kind`, operation `op`) and
// completes with convert(part), where part is the answer's `where` part;
// INTERNAL (MissingResult) when the answer lacks it. `convert` takes Part&
// and returns Result<T>.
template <class T, class Part, class F>
Future<T> Send(ClientCore& core, v1::Request request, const CallOptions& options, CallKind call,
               PrimitiveKind kind, const std::string& name, const char* op,
               ResponsePart<Part> where, F convert) {
  Future<v1::Response> answer(core.CallAsync(std::move(request), options, std::move(call)));
  return MapFuture<T>(std::move(answer),
                      [kind, name, op, where, convert = std::move(convert)](
                          absl::StatusOr<v1::Response> r) -> Result<T> {
                        if (!r.ok()) return r.status();
                        if (!((*r).*where.has)()) return MissingResult(kind, name, op);
                        return convert(*((*r).*where.get)());
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
