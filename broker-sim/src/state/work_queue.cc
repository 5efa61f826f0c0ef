// Work queue state machine.
#include "broker-sim/src/state/work_queue.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/check.h"
#include "broker-sim/src/state/describe.h"
#include "broker-sim/src/state/errors.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/state/saved_time.h"
#include "broker-sim/src/state/watch_events.h"

namespace atomix::broker {

ApplyResult WorkQueueState::Apply(const v1::Request &request,
                                  const ApplyContext &ctx,
                                  v1::Response &response) {
  if (name_.empty()) name_ = request.name();
  if (!request.has_work_queue()) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("work queue ", QuoteName(request.name()),
                          ": not a work queue operation"));
    return {};
  }
  const v1::WorkQueueRequest &op = request.work_queue();
  switch (op.op_case()) {
    case v1::WorkQueueRequest::kPush:
      return Push(op.push(), ctx, response);
    case v1::WorkQueueRequest::kTake:
      return Take(request, ctx, response);
    case v1::WorkQueueRequest::kAck:
      return Settle(request, op.ack().id(), op.ack().fence(), /*ack=*/true, ctx,
                    response);
    case v1::WorkQueueRequest::kRelease:
      return Settle(request, op.release().id(), op.release().fence(),
                    /*ack=*/false, ctx, response);
    case v1::WorkQueueRequest::kGet: {
      v1::WorkQueueResponse *out = response.mutable_work_queue();
      Counts(*out);
      out->set_waiters(static_cast<int64_t>(queue_.size()));
      return {};
    }
    case v1::WorkQueueRequest::OP_NOT_SET:
      break;
  }
  SetError(response, absl::StatusCode::kInvalidArgument,
           absl::StrCat("work queue ", QuoteName(request.name()),
                        ": request has no operation"));
  return {};
}

ApplyResult WorkQueueState::Push(const v1::WorkQueuePush &push,
                                 const ApplyContext &ctx,
                                 v1::Response &response) {
  ApplyResult result = Mutated();
  v1::WorkQueueResponse *out = response.mutable_work_queue();
  for (const std::string &value : push.items()) {
    const int64_t id = next_id_++;
    items_.emplace(id, Item{.value = value});
    queued_.push_back(id);
    out->add_ids(id);
    Event(result, v1::WatchEvent::INSERTED, id, ctx.revision);
  }
  Dispatch(ctx, result);
  Counts(*out);
  out->set_version(ctx.revision);
  return result;
}

ApplyResult WorkQueueState::Take(const v1::Request &request,
                                 const ApplyContext &ctx,
                                 v1::Response &response) {
  if (request.session_id() == 0) {
    SetError(response, absl::StatusCode::kInvalidArgument,
             absl::StrCat("work queue ", QuoteName(request.name()),
                          ": take needs a session"));
    return {};
  }
  const v1::WorkQueueTake &take = request.work_queue().take();
  // Waiters exist only while the queue is empty, so a take never passes one.
  if (!queued_.empty()) {
    ApplyResult result = Mutated();
    const int64_t id =
        Lease(request.session_id(), take.visibility_timeout_ms(), ctx, result);
    v1::WorkQueueResponse *out = response.mutable_work_queue();
    Fill(id, /*with_value=*/true, *out->mutable_item());
    out->set_taken(true);
    Counts(*out);
    return result;
  }
  if (take.try_only()) {
    Counts(*response.mutable_work_queue());
    return {};
  }
  queue_.Add(request, ctx, take.visibility_timeout_ms());
  return Deferred();
}

ApplyResult WorkQueueState::Settle(const v1::Request &request, int64_t id,
                                   int64_t fence, bool ack,
                                   const ApplyContext &ctx,
                                   v1::Response &response) {
  const char *verb = ack ? "ack" : "release";
  auto it = items_.find(id);
  if (it == items_.end()) {
    SetError(
        response, absl::StatusCode::kNotFound,
        absl::StrCat("work queue ", QuoteName(request.name()), " has no item ",
                     id, " to ", verb, id < next_id_ ? " (it was acked)" : ""));
    return {};
  }
  const Item &item = it->second;
  if (item.fence != fence) {
    SetError(
        response, absl::StatusCode::kFailedPrecondition,
        absl::StrCat("work queue ", QuoteName(request.name()), " item ", id,
                     " is not leased at fence ", fence, "; ",
                     item.fence == 0
                         ? std::string("it is queued")
                         : absl::StrCat("its lease's fence is ", item.fence)),
        item.fence);
    return {};
  }
  ApplyResult result = Mutated();
  if (ack) {
    by_session_.erase({item.session, id});
    if (--leases_at_fence_[fence] == 0) leases_at_fence_.erase(fence);
    expiries_.erase({item.lease_expires, id});
    // The event keeps the lease that acked it.
    Event(result, v1::WatchEvent::REMOVED, id, ctx.revision);
    v1::WorkQueueWatch &detail = *result.events.back().mutable_work_queue();
    items_.erase(it);
    detail.set_queued(queued());
    detail.set_leased(leased());
  } else {
    Requeue(id, ctx, result);
    Dispatch(ctx, result);
  }
  v1::WorkQueueResponse *out = response.mutable_work_queue();
  Counts(*out);
  out->set_version(ctx.revision);
  return result;
}

int64_t WorkQueueState::Lease(uint64_t session, int64_t visibility_timeout_ms,
                              const ApplyContext &ctx, ApplyResult &result) {
  const int64_t id = queued_.front();
  queued_.pop_front();
  Item &item = items_.at(id);
  ++item.deliveries;
  item.fence = ctx.revision;
  item.session = session;
  item.lease_expires = visibility_timeout_ms > 0
                           ? ctx.now + absl::Milliseconds(visibility_timeout_ms)
                           : absl::InfiniteFuture();
  by_session_.emplace(session, id);
  ++leases_at_fence_[item.fence];
  if (item.lease_expires != absl::InfiniteFuture()) {
    expiries_.emplace(item.lease_expires, id);
  }
  result.mutated = true;
  Event(result, v1::WatchEvent::UPDATED, id, ctx.revision);
  return id;
}

void WorkQueueState::Requeue(int64_t id, const ApplyContext &ctx,
                             ApplyResult &result) {
  Item &item = items_.at(id);
  by_session_.erase({item.session, id});
  if (--leases_at_fence_[item.fence] == 0) leases_at_fence_.erase(item.fence);
  expiries_.erase({item.lease_expires, id});
  item.fence = 0;
  item.session = 0;
  item.lease_expires = absl::InfiniteFuture();
  queued_.push_front(id);
  result.mutated = true;
  Event(result, v1::WatchEvent::UPDATED, id, ctx.revision);
}

void WorkQueueState::Dispatch(const ApplyContext &ctx, ApplyResult &result) {
  while (!queued_.empty() && !queue_.empty()) {
    const WaitQueue::Waiter waiter = queue_.Remove(queue_.front().order);
    const int64_t id = Lease(waiter.session, waiter.amount, ctx, result);
    Answer answer{waiter.token, {}};
    v1::WorkQueueResponse *out = answer.response.mutable_work_queue();
    Fill(id, /*with_value=*/true, *out->mutable_item());
    out->set_taken(true);
    Counts(*out);
    result.answers.push_back(std::move(answer));
  }
}

void WorkQueueState::Fill(int64_t id, bool with_value,
                          v1::WorkQueueItem &out) const {
  const Item &item = items_.at(id);
  out.set_id(id);
  if (with_value) out.set_value(item.value);
  out.set_deliveries(item.deliveries);
  out.set_fence(item.fence);
  out.set_session_id(item.session);
}

void WorkQueueState::Counts(v1::WorkQueueResponse &out) const {
  out.set_queued(queued());
  out.set_leased(leased());
}

void WorkQueueState::Event(ApplyResult &result, v1::WatchEvent::Type type,
                           int64_t id, int64_t revision) const {
  v1::WorkQueueWatch &detail =
      *AddEvent(result, type, revision).mutable_work_queue();
  Fill(id, /*with_value=*/false, *detail.mutable_item());
  detail.set_queued(queued());
  detail.set_leased(leased());
}

void WorkQueueState::Snapshot(const WatchFilter &filter,
                              v1::WatchSnapshot &out) const {
  (void)filter;
  v1::WorkQueueWatch &detail = *out.mutable_work_queue();
  detail.set_queued(queued());
  detail.set_leased(leased());
}

ApplyResult WorkQueueState::EndSession(uint64_t session_id,
                                       const ApplyContext &ctx) {
  ApplyResult result;
  queue_.AbortSession(session_id,
                      absl::StrCat("session ", session_id,
                                   " ended while waiting to take from work "
                                   "queue ",
                                   QuoteName(name_)),
                      result);
  std::vector<int64_t> ids;
  for (auto it = by_session_.lower_bound({session_id, 0});
       it != by_session_.end() && it->first == session_id; ++it) {
    ids.push_back(it->second);
  }
  // Back at the head in id order: requeue the highest id first.
  for (auto id = ids.rbegin(); id != ids.rend(); ++id) {
    Requeue(*id, ctx, result);
  }
  Dispatch(ctx, result);
  return result;
}

absl::Time WorkQueueState::NextDeadline() const {
  const absl::Time lease =
      expiries_.empty() ? absl::InfiniteFuture() : expiries_.begin()->first;
  return std::min(lease, queue_.NextDeadline());
}

ApplyResult WorkQueueState::Advance(const ApplyContext &ctx) {
  ApplyResult result;
  // An expired lease first: on a tie its item may serve the due waiter.
  if (!expiries_.empty() && expiries_.begin()->first <= ctx.now &&
      expiries_.begin()->first <= queue_.NextDeadline()) {
    Requeue(expiries_.begin()->second, ctx, result);
    Dispatch(ctx, result);
    return result;
  }
  queue_.ExpireOne(ctx.now,
                   absl::StrCat("work queue ", QuoteName(name_),
                                ": timed out waiting for an item"),
                   result);
  return result;
}

void WorkQueueState::Describe(v1::PrimitiveInfo &out) const {
  out.set_summary(absl::StrCat(queued(), " queued, ", leased(), " leased, ",
                               Counted(static_cast<int64_t>(queue_.size()), "waiting take",
                                       "waiting takes")));
  for (auto it = by_session_.begin(); it != by_session_.end() && HasRoom(out.holders());
       ++it) {
    AddHolding(*out.mutable_holders(), it->first, absl::StrCat("item ", it->second),
               items_.at(it->second).fence);
  }
  AddWaiters(queue_, out, [](const WaitQueue::Waiter &) { return std::string("take"); });
}

void WorkQueueState::Save(atomix::log::v1::PrimitiveSave &out) const {
  auto *save = out.mutable_work_queue();
  save->set_name(name_);
  save->set_next_id(next_id_);
  auto put = [this](int64_t id, atomix::log::v1::WorkQueueSave::Item &to) {
    const Item &item = items_.at(id);
    to.set_id(id);
    to.set_value(item.value);
    to.set_deliveries(item.deliveries);
    to.set_fence(item.fence);
    to.set_session(item.session);
    to.set_lease_expires_us(SaveTime(item.lease_expires));
  };
  for (int64_t id : queued_) put(id, *save->add_queued());
  for (const auto &[id, item] : items_) {
    if (item.fence != 0) put(id, *save->add_leased());
  }
  uint64_t next_order = 0;
  queue_.Save(*save->mutable_waiters(), next_order);
  save->set_next_order(next_order);
}

absl::Status WorkQueueState::Load(const atomix::log::v1::PrimitiveSave &in) {
  if (!in.has_work_queue()) return WrongSave("work queue");
  const auto &save = in.work_queue();
  auto bad = [](absl::string_view what) {
    return absl::DataLossError(
        absl::StrCat("the saved work queue is inconsistent: ", what));
  };
  if (save.next_id() < 1) return bad("next_id is not positive");
  if (!save.waiters().empty() && !save.queued().empty()) {
    return bad("takes wait while items are queued");
  }
  name_ = save.name();
  next_id_ = save.next_id();
  for (const auto &saved : save.queued()) {
    if (saved.id() < 1 || saved.id() >= next_id_ || saved.fence() != 0 ||
        saved.session() != 0 || saved.deliveries() < 0) {
      return bad(absl::StrCat("queued item ", saved.id()));
    }
    if (!items_.emplace(saved.id(), Item{saved.value(), saved.deliveries()})
             .second) {
      return bad(absl::StrCat("item ", saved.id(), " is saved twice"));
    }
    queued_.push_back(saved.id());
  }
  for (const auto &saved : save.leased()) {
    if (saved.id() < 1 || saved.id() >= next_id_ || saved.fence() < 1 ||
        saved.session() == 0 || saved.deliveries() < 1) {
      return bad(absl::StrCat("leased item ", saved.id()));
    }
    const Item item{saved.value(), saved.deliveries(), saved.fence(),
                    saved.session(), LoadTime(saved.lease_expires_us())};
    if (!items_.emplace(saved.id(), item).second) {
      return bad(absl::StrCat("item ", saved.id(), " is saved twice"));
    }
    by_session_.emplace(item.session, saved.id());
    ++leases_at_fence_[item.fence];
    if (item.lease_expires != absl::InfiniteFuture()) {
      expiries_.emplace(item.lease_expires, saved.id());
    }
  }
  for (const auto &waiter : save.waiters()) {
    if (waiter.amount() < 0) return bad(absl::StrCat("waiter ", waiter.order()));
  }
  return queue_.Load(save.waiters(), save.next_order(), /*need_session=*/true,
                     absl::StrCat("work queue ", QuoteName(save.name())));
}

namespace {

absl::Status CheckPositive(const char *what, int64_t value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " is ", value, "; it must be positive"));
}

absl::Status CheckPush(const v1::WorkQueuePush &push, const Limits &limits) {
  if (push.items().empty()) {
    return absl::InvalidArgumentError("items is empty");
  }
  if (push.items_size() > limits.max_push_items) {
    return absl::InvalidArgumentError(
        absl::StrCat("items has ", push.items_size(), " items; the limit is ",
                     limits.max_push_items));
  }
  for (int i = 0; i < push.items_size(); ++i) {
    absl::Status status =
        CheckBytes(absl::StrCat("items[", i, "]"), push.items(i),
                   limits.max_value_bytes, true);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status CheckTake(const v1::Request &request, const Limits &limits) {
  const int64_t timeout = request.work_queue().take().visibility_timeout_ms();
  if (timeout < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "visibility_timeout_ms is ", timeout, "; it must not be negative"));
  }
  if (timeout > limits.max_visibility_timeout_ms) {
    return absl::InvalidArgumentError(
        absl::StrCat("visibility_timeout_ms is ", timeout, "; the limit is ",
                     limits.max_visibility_timeout_ms));
  }
  return NeedsSession(request, "work queue take");
}

absl::Status ValidateWorkQueue(const v1::Request &request,
                               const Limits &limits) {
  const v1::WorkQueueRequest &op = request.work_queue();
  switch (op.op_case()) {
    case v1::WorkQueueRequest::kPush:
      return CheckPush(op.push(), limits);
    case v1::WorkQueueRequest::kTake:
      return CheckTake(request, limits);
    case v1::WorkQueueRequest::kAck:
      return Both(CheckPositive("id", op.ack().id()),
                  CheckPositive("fence", op.ack().fence()));
    case v1::WorkQueueRequest::kRelease:
      return Both(CheckPositive("id", op.release().id()),
                  CheckPositive("fence", op.release().fence()));
    case v1::WorkQueueRequest::kGet:
      return absl::OkStatus();
    case v1::WorkQueueRequest::OP_NOT_SET:
      break;
  }
  return NoOperation("work queue");
}

bool WorkQueueIsRead(const v1::Request &request) {
  return request.work_queue().has_get();
}

bool WorkQueueTakeIsOwned(const v1::Request &request) {
  return request.work_queue().has_take();
}

// Producers push (write); consumers take, ack and release leases (lock).
AccessRight WorkQueueRight(const v1::Request &request) {
  return request.work_queue().has_push() ? AccessRight::kWrite : AccessRight::kLock;
}

}  // namespace

const PrimitiveSpec &WorkQueuePrimitive() {
  static const PrimitiveSpec spec{
      .type = v1::WORK_QUEUE,
      .name = "work queue",
      .a_name = "a work queue",
      .op = v1::Request::kWorkQueue,
      .make = &Make<WorkQueueState>,
      .validate = &ValidateWorkQueue,
      .grants_fences = true,
      .session_owned = &WorkQueueTakeIsOwned,
      .has_timers = true,
      .is_read = &WorkQueueIsRead,
      .right_of = &WorkQueueRight,
  };
  return spec;
}

}  // namespace atomix::broker
