#include "atomix/barrier.h"

#include <utility>
#include <vector>

#include "atomix/internal/watch_core.h"
#include "primitives/src/grant.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix {
namespace {

constexpr internal::PrimitiveKind kBarrierKind{v1::BARRIER, "barrier"};
constexpr internal::OpWire<v1::BarrierRequest, v1::BarrierResponse> kBarrierWire{
    kBarrierKind, &v1::Request::mutable_barrier, &v1::Response::has_barrier,
    &v1::Response::mutable_barrier};

BarrierEvent FromWire(EventType type, Version revision, const v1::BarrierWatch& w,
                      ResyncReason reason) {
  return BarrierEvent{type,        revision,    w.generation(), w.parties(),
                      w.waiting(), w.tripped(), w.broken_by(),  reason};
}

// Watch events carry a v1::BarrierWatch detail.
auto BarrierDecoder() {
  return internal::DecodeDetail<BarrierEvent, v1::BarrierWatch>(
      kBarrierKind,
      [](const v1::BarrierWatch& w, const internal::RawWatchEvent& r) {
        return FromWire(r.type, r.revision, w, ResyncReason::kNone);
      },
      [](const v1::BarrierWatch& w, EventType type, const internal::RawSnapshot& raw) {
        return FromWire(type, raw.revision, w, raw.reason);
      });
}

}  // namespace

Future<BarrierPassed> Barrier::AwaitAsync(const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<BarrierPassed>(nullptr, internal::NoCore());
  v1::BarrierRequest op;
  op.mutable_await();
  // A blocking call: the broker holds it no longer than the caller waits and
  // withdraws this party when the caller gives up. A trip that crosses the
  // withdrawal cannot be undone (the other parties passed), so there is no
  // give-back.
  return internal::CallOp<BarrierPassed>(
      *core_, kBarrierWire, name_, std::move(op), "await", options,
      internal::CallKind{.blocking = true}, [](v1::BarrierResponse& r, int64_t revision) {
        return BarrierPassed{r.generation(), r.arrival(), revision};
      });
}

Future<int64_t> Barrier::GetField(Field field, const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<int64_t>(nullptr, internal::NoCore());
  v1::BarrierRequest op;
  op.mutable_get();
  return internal::CallOp<int64_t>(*core_, kBarrierWire, name_, std::move(op), "get", options,
                                   internal::CallKind{.idempotent = true},
                                   [field](v1::BarrierResponse& r) -> int64_t {
                                     switch (field) {
                                       case Field::kParties:
                                         return r.parties();
                                       case Field::kWaiting:
                                         return r.waiting();
                                       case Field::kGeneration:
                                         break;
                                     }
                                     return r.generation();
                                   });
}

Future<int64_t> Barrier::PartiesAsync(const CallOptions& options) const {
  return GetField(Field::kParties, options);
}
Future<int64_t> Barrier::WaitingAsync(const CallOptions& options) const {
  return GetField(Field::kWaiting, options);
}
Future<int64_t> Barrier::GenerationAsync(const CallOptions& options) const {
  return GetField(Field::kGeneration, options);
}

absl::StatusOr<Channel<BarrierEvent>> Barrier::Watch(const WatchOptions& options) const {
  return internal::OpenWatch<BarrierEvent>(
      core_, internal::WatchTarget{.kind = kBarrierKind, .name = name_}, options, BarrierDecoder());
}

absl::StatusOr<BarrierPassed> Barrier::Await(const CallOptions& options) const {
  return AwaitAsync(options).get();
}
absl::StatusOr<int64_t> Barrier::Parties(const CallOptions& options) const {
  return PartiesAsync(options).get();
}
absl::StatusOr<int64_t> Barrier::Waiting(const CallOptions& options) const {
  return WaitingAsync(options).get();
}
absl::StatusOr<int64_t> Barrier::Generation(const CallOptions& options) const {
  return GenerationAsync(options).get();
}

namespace internal {
absl::StatusOr<Barrier> GetBarrier(std::shared_ptr<ClientCore> core, std::string_view name,
                                   int64_t parties, const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kBarrierKind, name, options);
  if (!opened.ok()) return opened;
  Barrier barrier(std::move(core), std::string(name));
  v1::BarrierRequest op;
  op.mutable_init()->set_parties(parties);
  // Init is idempotent: the same count again changes nothing.
  absl::Status init = CallOp<void>(*barrier.core_, kBarrierWire, barrier.name_, std::move(op),
                                   "init", options, CallKind{.idempotent = true},
                                   [](v1::BarrierResponse&) { return absl::OkStatus(); })
                          .get();
  if (!init.ok()) return init;
  return barrier;
}
}  // namespace internal

absl::StatusOr<Barrier> GetBarrier(const Client& client, std::string_view name, int64_t parties,
                                   const CallOptions& options) {
  return internal::GetBarrier(internal_core(client), name, parties, options);
}
absl::StatusOr<Barrier> GetBarrier(std::string_view name, int64_t parties,
                                   const CallOptions& options) {
  return GetBarrier(DefaultClient(), name, parties, options);
}

}  // namespace atomix
