// Helpers for StateMachine::Describe (Admin.ListPrimitives): how values,
// keys and counts read in a summary, and how holders and waiters are listed.
//
//   out.set_summary(absl::StrCat(DescribeQuoted(value_), " (version ", v, ")"));
//   AddHolding(*out.mutable_holders(), session, "lock", fence);
//   AddWaiters(queue_, out, [](const WaitQueue::Waiter&) { return "lock"; });
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_BROKER_STATE_DESCRIBE_H_
#define ATOMIX_BROKER_STATE_DESCRIBE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "atomix/v1/admin.pb.h"
#include "broker-sim/src/state/wait_queue.h"

namespace atomix::broker {

// The most bytes a described value or key takes, escaped.
inline constexpr size_t kMaxDescribedBytes = 200;

// `bytes` hex-escaped (absl::CHexEscape: printable ASCII stays, the rest
// becomes \n, \", \x00...), cut to kMaxDescribedBytes: a longer escape
// keeps its first 197 bytes (never half an escape sequence) and ends in
// "...". Always ASCII, so valid UTF-8.
std::string DescribeBytes(absl::string_view bytes);

// DescribeBytes in double quotes: hello -> "hello".
std::string DescribeQuoted(absl::string_view bytes);

// A count and its noun: Counted(1, "entry", "entries") is "1 entry",
// Counted(3, ...) "3 entries".
std::string Counted(int64_t n, absl::string_view one, absl::string_view many);

// Appends one Holding (name and type left to the caller).
void AddHolding(google::protobuf::RepeatedPtrField<v1::Holding>& to,
                uint64_t session, std::string what, int64_t fence = 0);

// Whether `to` has room for another entry (fewer than kMaxDescribed).
inline bool HasRoom(const google::protobuf::RepeatedPtrField<v1::Holding>& to) {
  return to.size() < kMaxDescribed;
}

// Appends the first waiters of `queue` to out.waiters in arrival order,
// until out.waiters holds kMaxDescribed; `what` says what each asks for.
void AddWaiters(const WaitQueue& queue, v1::PrimitiveInfo& out,
                absl::FunctionRef<std::string(const WaitQueue::Waiter&)> what);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_DESCRIBE_H_
