// Helpers for StateMachine::Describe.
#include "broker-sim/src/state/describe.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace atomix::broker {

std::string DescribeBytes(absl::string_view bytes) {
  std::string escaped = absl::CHexEscape(bytes);
  if (escaped.size() <= kMaxDescribedBytes) return escaped;
  // Cut whole escapes only: \xNN takes 4 bytes, \n and the like 2.
  constexpr size_t kRoom = kMaxDescribedBytes - 3;
  size_t cut = 0;
  while (cut < escaped.size()) {
    const size_t unit =
        escaped[cut] != '\\' ? 1 : (cut + 1 < escaped.size() && escaped[cut + 1] == 'x' ? 4 : 2);
    if (cut + unit > kRoom) break;
    cut += unit;
  }
  std::string out = escaped.substr(0, cut);
  out += "...";
  return out;
}

std::string DescribeQuoted(absl::string_view bytes) {
  return absl::StrCat("\"", DescribeBytes(bytes), "\"");
}

std::string Counted(int64_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

void AddHolding(google::protobuf::RepeatedPtrField<v1::Holding>& to,
                uint64_t session, std::string what, int64_t fence) {
  v1::Holding* holding = to.Add();
  holding->set_session(session);
  holding->set_what(std::move(what));
  holding->set_fence(fence);
}

void AddWaiters(const WaitQueue& queue, v1::PrimitiveInfo& out,
                absl::FunctionRef<std::string(const WaitQueue::Waiter&)> what) {
  const size_t max = kMaxDescribed;
  const size_t room = max - std::min(max, static_cast<size_t>(out.waiters_size()));
  queue.ForEach(room, [&](const WaitQueue::Waiter& waiter) {
    AddHolding(*out.mutable_waiters(), waiter.session, what(waiter));
  });
}

}  // namespace atomix::broker
