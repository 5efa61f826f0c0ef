// WaitQueue: deferred requests in arrival order.
#include "broker-sim/src/state/wait_queue.h"

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/saved_time.h"

namespace atomix::broker {

Answer ErrorAnswer(uint64_t token, absl::StatusCode code, std::string message) {
  Answer answer{token, {}};
  SetError(answer.response, code, std::move(message));
  return answer;
}

uint64_t WaitQueue::Add(const v1::Request& request, const ApplyContext& ctx,
                        int64_t amount, std::string key) {
  Waiter waiter;
  waiter.order = next_order_++;
  waiter.token = ctx.token;
  waiter.session = request.session_id();
  if (request.timeout_ms() > 0) {
    waiter.deadline = ctx.now + absl::Milliseconds(request.timeout_ms());
  }
  waiter.amount = amount;
  waiter.key = std::move(key);
  const uint64_t order = waiter.order;
  Insert(std::move(waiter));
  return order;
}

void WaitQueue::Insert(Waiter waiter) {
  const uint64_t order = waiter.order;
  if (waiter.deadline != absl::InfiniteFuture()) {
    deadlines_.emplace(waiter.deadline, order);
  }
  order_of_token_[waiter.token] = order;
  if (waiter.session != 0) by_session_.emplace(waiter.session, order);
  waiters_.emplace(order, std::move(waiter));
}

WaitQueue::Waiter WaitQueue::Remove(uint64_t order) {
  auto it = waiters_.find(order);
  if (it == waiters_.end()) return {};
  Waiter waiter = std::move(it->second);
  waiters_.erase(it);
  deadlines_.erase({waiter.deadline, order});
  order_of_token_.erase(waiter.token);
  by_session_.erase({waiter.session, order});
  return waiter;
}

bool WaitQueue::Cancel(uint64_t token) {
  auto it = order_of_token_.find(token);
  if (it == order_of_token_.end()) return false;
  Remove(it->second);
  return true;
}

bool WaitQueue::AbortSession(uint64_t session, absl::string_view message,
                             ApplyResult& result) {
  const std::vector<uint64_t> gone = OrdersOf(session);
  for (uint64_t order : gone) {
    const Waiter waiter = Remove(order);
    result.answers.push_back(
        ErrorAnswer(waiter.token, absl::StatusCode::kAborted, std::string(message)));
  }
  return !gone.empty();
}

bool WaitQueue::Waits(uint64_t session) const {
  auto it = by_session_.lower_bound({session, 0});
  return it != by_session_.end() && it->first == session;
}

std::vector<uint64_t> WaitQueue::OrdersOf(uint64_t session) const {
  std::vector<uint64_t> orders;
  for (auto it = by_session_.lower_bound({session, 0});
       it != by_session_.end() && it->first == session; ++it) {
    orders.push_back(it->second);
  }
  return orders;
}

absl::Time WaitQueue::NextDeadline() const {
  return deadlines_.empty() ? absl::InfiniteFuture() : deadlines_.begin()->first;
}

std::optional<WaitQueue::Waiter> WaitQueue::ExpireOne(absl::Time now,
                                                      absl::string_view message,
                                                      ApplyResult& result) {
  if (deadlines_.empty() || deadlines_.begin()->first > now) return std::nullopt;
  Waiter waiter = Remove(deadlines_.begin()->second);
  result.answers.push_back(ErrorAnswer(waiter.token, absl::StatusCode::kDeadlineExceeded,
                                       std::string(message)));
  return waiter;
}

void WaitQueue::Save(google::protobuf::RepeatedPtrField<atomix::log::v1::Waiter>& out,
                     uint64_t& next_order) const {
  for (const auto& [order, waiter] : waiters_) {
    atomix::log::v1::Waiter* w = out.Add();
    w->set_order(order);
    w->set_token(waiter.token);
    w->set_session(waiter.session);
    w->set_deadline_us(SaveTime(waiter.deadline));
    w->set_amount(waiter.amount);
    w->set_key(waiter.key);
  }
  next_order = next_order_;
}

absl::Status WaitQueue::Load(
    const google::protobuf::RepeatedPtrField<atomix::log::v1::Waiter>& in,
    uint64_t next_order, bool need_session, absl::string_view type) {
  absl::flat_hash_set<uint64_t> tokens;
  uint64_t min_order = 0;
  for (const atomix::log::v1::Waiter& w : in) {
    if (w.order() < min_order || w.order() >= next_order) {
      return absl::DataLossError(
          absl::StrCat("the saved ", type, " holds waiter order ", w.order(),
                       " out of sequence (next order ", next_order, ")"));
    }
    min_order = w.order() + 1;
    if (!tokens.insert(w.token()).second) {
      return absl::DataLossError(absl::StrCat(
          "the saved ", type, " holds waiter token ", w.token(), " twice"));
    }
    if (need_session && w.session() == 0) {
      return absl::DataLossError(absl::StrCat(
          "the saved ", type, " holds a waiter without a session"));
    }
  }
  next_order_ = next_order;
  for (const atomix::log::v1::Waiter& w : in) {
    Insert(Waiter{w.order(), w.token(), w.session(), LoadTime(w.deadline_us()),
                  w.amount(), w.key()});
  }
  return absl::OkStatus();
}

}  // namespace atomix::broker
