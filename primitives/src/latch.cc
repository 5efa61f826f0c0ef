#include "atomix/latch.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atomix/internal/watch_core.h"
#include "primitives/src/grant.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix {
namespace {

constexpr internal::PrimitiveKind kLatchKind{v1::LATCH, "latch"};
constexpr internal::OpWire<v1::LatchRequest, v1::LatchResponse> kLatchWire{
    kLatchKind, &v1::Request::mutable_latch, &v1::Response::has_latch,
    &v1::Response::mutable_latch};

// Watch events carry a v1::LatchWatch detail.
auto LatchDecoder() {
  return internal::DecodeDetail<LatchEvent, v1::LatchWatch>(
      kLatchKind,
      [](const v1::LatchWatch& w, const internal::RawWatchEvent& r) {
        return LatchEvent{r.type, r.revision, w.count(), w.generation(), ResyncReason::kNone};
      },
      [](const v1::LatchWatch& w, EventType type, const internal::RawSnapshot& raw) {
        return LatchEvent{type, raw.revision, w.count(), w.generation(), raw.reason};
      });
}

}  // namespace

Future<bool> CountDownLatch::TrySetCountAsync(int64_t count, const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<bool>(nullptr, internal::NoCore());
  v1::LatchRequest op;
  op.mutable_try_set_count()->set_count(count);
  return internal::CallOp<bool>(*core_, kLatchWire, name_, std::move(op), "try_set_count", options,
                                internal::CallKind{}, [](v1::LatchResponse& r) { return r.set(); });
}

Future<int64_t> CountDownLatch::CountDownAsync(const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<int64_t>(nullptr, internal::NoCore());
  v1::LatchRequest op;
  op.mutable_count_down();
  return internal::CallOp<int64_t>(*core_, kLatchWire, name_, std::move(op), "count_down", options,
                                   internal::CallKind{},
                                   [](v1::LatchResponse& r) { return r.count(); });
}

Future<LatchOpened> CountDownLatch::AwaitAsync(const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<LatchOpened>(nullptr, internal::NoCore());
  v1::LatchRequest op;
  op.mutable_await();
  // A blocking call: the broker holds it no longer than the caller waits and
  // withdraws it when the caller gives up. An answer that crosses the
  // withdrawal changed nothing, so there is nothing to give back.
  return internal::CallOp<LatchOpened>(
      *core_, kLatchWire, name_, std::move(op), "await", options,
      internal::CallKind{.blocking = true},
      [name = name_](v1::LatchResponse& r, int64_t revision) -> absl::StatusOr<LatchOpened> {
        if (r.count() != 0) {
          return absl::InternalError(
              absl::StrCat("broker answered latch \"", name, "\" await at count ", r.count()));
        }
        return LatchOpened{r.generation(), revision};
      });
}

Future<int64_t> CountDownLatch::GetCountAsync(const CallOptions& options) const {
  return internal::MapFuture<int64_t>(GetInfoAsync(options),
                                      [](absl::StatusOr<LatchInfo> s) -> absl::StatusOr<int64_t> {
                                        if (!s.ok()) return s.status();
                                        return s->count;
                                      });
}

Future<LatchInfo> CountDownLatch::GetInfoAsync(const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<LatchInfo>(nullptr, internal::NoCore());
  v1::LatchRequest op;
  op.mutable_get();
  return internal::CallOp<LatchInfo>(*core_, kLatchWire, name_, std::move(op), "get", options,
                                     internal::CallKind{.idempotent = true},
                                     [](v1::LatchResponse& r) {
                                       return LatchInfo{r.count(), r.generation(), r.waiters()};
                                     });
}

absl::StatusOr<Channel<LatchEvent>> CountDownLatch::Watch(const WatchOptions& options) const {
  return internal::OpenWatch<LatchEvent>(
      core_, internal::WatchTarget{.kind = kLatchKind, .name = name_}, options, LatchDecoder());
}

absl::StatusOr<bool> CountDownLatch::TrySetCount(int64_t count, const CallOptions& options) const {
  return TrySetCountAsync(count, options).get();
}
absl::StatusOr<int64_t> CountDownLatch::CountDown(const CallOptions& options) const {
  return CountDownAsync(options).get();
}
absl::StatusOr<LatchOpened> CountDownLatch::Await(const CallOptions& options) const {
  return AwaitAsync(options).get();
}
absl::StatusOr<int64_t> CountDownLatch::GetCount(const CallOptions& options) const {
  return GetCountAsync(options).get();
}
absl::StatusOr<LatchInfo> CountDownLatch::GetInfo(const CallOptions& options) const {
  return GetInfoAsync(options).get();
}

namespace internal {
absl::StatusOr<CountDownLatch> GetCountDownLatch(std::shared_ptr<ClientCore> core,
                                                 std::string_view name,
                                                 const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kLatchKind, name, options);
  if (!opened.ok()) return opened;
  return CountDownLatch(std::move(core), std::string(name));
}
}  // namespace internal

absl::StatusOr<CountDownLatch> GetCountDownLatch(const Client& client, std::string_view name,
                                                 const CallOptions& options) {
  return internal::GetCountDownLatch(internal_core(client), name, options);
}
absl::StatusOr<CountDownLatch> GetCountDownLatch(std::string_view name,
                                                 const CallOptions& options) {
  return GetCountDownLatch(DefaultClient(), name, options);
}

}  // namespace atomix
