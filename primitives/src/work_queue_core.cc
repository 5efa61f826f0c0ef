#include "atomix/internal/work_queue_core.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "atomix/internal/watch_core.h"
#include "atomix/work_queue.h"
#include "primitives/src/grant.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "primitives/src/work_queue_give_back.h"
#include "sdk/src/client_core.h"

namespace atomix::internal {
namespace {

static_assert(kWorkQueueKind.wire_type == v1::WORK_QUEUE);
constexpr OpWire<v1::WorkQueueRequest, v1::WorkQueueResponse> kWorkQueueWire{
    kWorkQueueKind, &v1::Request::mutable_work_queue, &v1::Response::has_work_queue,
    &v1::Response::mutable_work_queue};

RawWorkItem ItemFromWire(v1::WorkQueueItem& item) {
  return RawWorkItem{item.id(), std::move(*item.mutable_value()), item.deliveries(), item.fence(),
                     item.session_id()};
}

// Watch events and snapshots carry a v1::WorkQueueWatch detail.
auto WorkQueueDecoder() {
  return DecodeDetail<WorkQueueEvent, v1::WorkQueueWatch>(
      kWorkQueueKind,
      [](const v1::WorkQueueWatch& w, const RawWatchEvent& r) {
        return WorkQueueEvent{r.type,
                              r.revision,
                              w.item().id(),
                              w.item().deliveries(),
                              w.item().fence(),
                              w.item().session_id(),
                              w.queued(),
                              w.leased(),
                              ResyncReason::kNone};
      },
      [](const v1::WorkQueueWatch& w, EventType type, const RawSnapshot& raw) {
        WorkQueueEvent event;
        event.type = type;
        event.revision = raw.revision;
        event.queued = w.queued();
        event.leased = w.leased();
        event.reason = raw.reason;
        return event;
      });
}

}  // namespace

GiveBack ReleaseLateLease(const std::string& name) {
  return [name](const v1::Response& late) -> std::optional<v1::Request> {
    if (late.has_error() || !late.has_work_queue() || !late.work_queue().taken()) {
      return std::nullopt;
    }
    v1::Request release = NewRequest(kWorkQueueKind, name);
    auto* op = release.mutable_work_queue()->mutable_release();
    op->set_id(late.work_queue().item().id());
    op->set_fence(late.work_queue().item().fence());
    return release;
  };
}

absl::StatusOr<WorkQueueCore> WorkQueueCore::Open(std::shared_ptr<ClientCore> core,
                                                  std::string_view name,
                                                  const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kWorkQueueKind, name, options);
  if (!opened.ok()) return opened;
  return WorkQueueCore(std::move(core), std::string(name));
}

Future<RawPush> WorkQueueCore::PushAsync(std::vector<std::string> values,
                                         const CallOptions& options) const {
  if (core_ == nullptr) return Refused<RawPush>(nullptr, NoCore());
  v1::WorkQueueRequest op;
  auto* push = op.mutable_push();
  push->mutable_items()->Reserve(static_cast<int>(values.size()));
  for (std::string& v : values) push->add_items(std::move(v));
  return CallOp<RawPush>(
      *core_, kWorkQueueWire, name_, std::move(op), "push", options, CallKind{},
      [](v1::WorkQueueResponse& r) {
        return RawPush{std::vector<int64_t>(r.ids().begin(), r.ids().end()), r.version()};
      });
}

Future<std::optional<RawWorkItem>> WorkQueueCore::TakeAsync(bool try_only,
                                                            int64_t visibility_timeout_ms,
                                                            const CallOptions& options) const {
  using Out = std::optional<RawWorkItem>;
  if (core_ == nullptr) return Refused<Out>(nullptr, NoCore());
  v1::WorkQueueRequest op;
  op.mutable_take()->set_try_only(try_only);
  op.mutable_take()->set_visibility_timeout_ms(visibility_timeout_ms);
  // A waiting take is a blocking call: the broker holds it no longer than
  // the caller waits, the client withdraws it when the caller gives up, and
  // a lease that crosses the withdrawal is released (back to the head).
  CallKind kind;
  if (!try_only) {
    kind.blocking = true;
    kind.give_back = ReleaseLateLease(name_);
  }
  return CallOp<Out>(*core_, kWorkQueueWire, name_, std::move(op), try_only ? "try_take" : "take",
                     options, std::move(kind),
                     [name = name_, try_only](v1::WorkQueueResponse& r) -> absl::StatusOr<Out> {
                       if (!r.taken()) {
                         if (try_only) return Out();
                         return absl::InternalError(absl::StrCat("broker answered work queue \"",
                                                                 name, "\" take without an item"));
                       }
                       return Out(ItemFromWire(*r.mutable_item()));
                     });
}

Future<Version> WorkQueueCore::SettleAsync(bool release, int64_t id, Version fence,
                                           const CallOptions& options) const {
  if (core_ == nullptr) return Refused<Version>(nullptr, NoCore());
  v1::WorkQueueRequest op;
  if (release) {
    op.mutable_release()->set_id(id);
    op.mutable_release()->set_fence(fence);
  } else {
    op.mutable_ack()->set_id(id);
    op.mutable_ack()->set_fence(fence);
  }
  return CallOp<Version>(*core_, kWorkQueueWire, name_, std::move(op), release ? "release" : "ack",
                         options, CallKind{}, [](v1::WorkQueueResponse& r) { return r.version(); });
}

Future<RawWorkQueueCounts> WorkQueueCore::GetAsync(const CallOptions& options) const {
  if (core_ == nullptr) return Refused<RawWorkQueueCounts>(nullptr, NoCore());
  v1::WorkQueueRequest op;
  op.mutable_get();
  return CallOp<RawWorkQueueCounts>(
      *core_, kWorkQueueWire, name_, std::move(op), "get", options, CallKind{.idempotent = true},
      [](v1::WorkQueueResponse& r) {
        return RawWorkQueueCounts{r.queued(), r.leased(), r.waiters()};
      });
}

std::stop_token WorkQueueCore::SessionLostToken(uint64_t session) const {
  if (core_ == nullptr) return {};
  return core_->SessionLostToken(session);
}

absl::StatusOr<Channel<WorkQueueEvent>> WorkQueueCore::Watch(const WatchOptions& options) const {
  return OpenWatch<WorkQueueEvent>(core_, WatchTarget{.kind = kWorkQueueKind, .name = name_},
                                   options, WorkQueueDecoder());
}

}  // namespace atomix::internal
