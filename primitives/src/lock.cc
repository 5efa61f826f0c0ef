#include "atomix/lock.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "atomix/internal/watch_core.h"
#include "primitives/src/grant.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix {
namespace {

constexpr internal::PrimitiveKind kLockKind{v1::LOCK, "lock"};
constexpr internal::OpWire<v1::LockRequest, v1::LockResponse> kLockWire{
    kLockKind, &v1::Request::mutable_lock, &v1::Response::has_lock, &v1::Response::mutable_lock};

// Watch events carry a v1::LockHolder detail.
auto LockDecoder() {
  return internal::DecodeDetail<LockEvent, v1::LockHolder>(
      kLockKind,
      [](const v1::LockHolder& h, const internal::RawWatchEvent& r) {
        return LockEvent{r.type, r.revision, h.fence(), h.session_id(), ResyncReason::kNone};
      },
      [](const v1::LockHolder& h, EventType type, const internal::RawSnapshot& raw) {
        return LockEvent{type, raw.revision, h.fence(), h.session_id(), raw.reason};
      });
}

// A grant that reached nobody goes back: Release(IfVersion(fence)), which
// frees exactly that grant and nothing a later holder got.
internal::GiveBack ReleaseLateGrant(const std::string& name) {
  return [name](const v1::Response& late) -> std::optional<v1::Request> {
    if (late.has_error() || !late.has_lock() || !late.lock().acquired()) return std::nullopt;
    v1::Request release = internal::NewRequest(kLockKind, name);
    release.mutable_lock()->mutable_release()->set_if_version(late.lock().version());
    return release;
  };
}

}  // namespace

Future<Lock::Grant> Lock::AcquireImpl(bool try_only, const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<Grant>(nullptr, internal::NoCore());
  // The session the grant belongs to: the one in place when the request was
  // sent. If it changes meanwhile, the old one is lost, and so is its grant.
  const uint64_t before = core_->session_id();
  v1::LockRequest op;
  op.mutable_acquire()->set_try_only(try_only);
  // A waiting acquire is a blocking call: the broker holds it no longer than
  // the caller waits, withdraws it when the caller gives up, and a grant
  // that crosses the withdrawal is released by the client core.
  internal::CallKind kind;
  if (!try_only) {
    kind.blocking = true;
    kind.give_back = ReleaseLateGrant(name_);
  }
  return internal::CallOp<Grant>(
      *core_, kLockWire, name_, std::move(op), try_only ? "try_acquire" : "acquire", options,
      std::move(kind),
      // A weak reference: a pending future must not keep the client alive.
      [core = std::weak_ptr<internal::ClientCore>(core_), name = name_, try_only,
       before](v1::LockResponse& r) -> absl::StatusOr<Grant> {
        Grant grant;
        grant.session = internal::GrantSession(core, before);
        if (!r.acquired()) {
          if (!try_only) {
            return absl::InternalError(
                absl::StrCat("broker answered lock \"", name, "\" acquire without a grant"));
          }
          return grant;
        }
        grant.fence = Fence{r.version()};
        return grant;
      });
}

Future<Fence> Lock::AcquireAsync(const CallOptions& options) const {
  return internal::MapFuture<Fence>(AcquireImpl(/*try_only=*/false, options),
                                    [](absl::StatusOr<Grant> g) -> absl::StatusOr<Fence> {
                                      if (!g.ok()) return g.status();
                                      return *g->fence;
                                    });
}

Future<std::optional<Fence>> Lock::TryAcquireAsync(const CallOptions& options) const {
  return internal::MapFuture<std::optional<Fence>>(
      AcquireImpl(/*try_only=*/true, options),
      [](absl::StatusOr<Grant> g) -> absl::StatusOr<std::optional<Fence>> {
        if (!g.ok()) return g.status();
        return g->fence;
      });
}

Future<void> Lock::ReleaseAsync(const WriteOptions& options) const {
  if (core_ == nullptr) return internal::Refused<void>(nullptr, internal::NoCore());
  if (options.if_fence || options.ephemeral || options.ttl) {
    return internal::Refused<void>(
        core_.get(), absl::InvalidArgumentError(
                         absl::StrCat("lock \"", name_, "\": Release takes only IfVersion")));
  }
  v1::LockRequest op;
  auto* release = op.mutable_release();
  if (options.if_version) release->set_if_version(*options.if_version);
  return internal::CallOp<void>(*core_, kLockWire, name_, std::move(op), "release", options,
                                internal::CallKind{},
                                [](v1::LockResponse&) { return absl::OkStatus(); });
}

Future<bool> Lock::IsLockedAsync(const LockQueryOptions& options) const {
  if (core_ == nullptr) return internal::Refused<bool>(nullptr, internal::NoCore());
  v1::LockRequest op;
  auto* get = op.mutable_get();
  if (options.with_version) get->set_with_version(*options.with_version);
  return internal::CallOp<bool>(*core_, kLockWire, name_, std::move(op), "get", options,
                                internal::CallKind{.idempotent = true},
                                [](v1::LockResponse& r) { return r.locked(); });
}

absl::StatusOr<Channel<LockEvent>> Lock::Watch(const WatchOptions& options) const {
  return internal::OpenWatch<LockEvent>(
      core_, internal::WatchTarget{.kind = kLockKind, .name = name_}, options, LockDecoder());
}

absl::StatusOr<Fence> Lock::Acquire(const CallOptions& options) const {
  return AcquireAsync(options).get();
}

absl::StatusOr<std::optional<Fence>> Lock::TryAcquire(const CallOptions& options) const {
  return TryAcquireAsync(options).get();
}

absl::Status Lock::Release(const WriteOptions& options) const {
  return ReleaseAsync(options).get();
}

absl::StatusOr<bool> Lock::IsLocked(const LockQueryOptions& options) const {
  return IsLockedAsync(options).get();
}

absl::StatusOr<LockGuard> LockGuard::Acquire(const Lock& lock, const CallOptions& options) {
  auto g = lock.AcquireImpl(/*try_only=*/false, options).get();
  if (!g.ok()) return g.status();
  return LockGuard(lock, *g->fence, lock.core_->SessionLostToken(g->session));
}

absl::StatusOr<std::optional<LockGuard>> LockGuard::TryAcquire(const Lock& lock,
                                                               const CallOptions& options) {
  auto g = lock.AcquireImpl(/*try_only=*/true, options).get();
  if (!g.ok()) return g.status();
  if (!g->fence.has_value()) return std::optional<LockGuard>();
  return std::optional<LockGuard>(
      LockGuard(lock, *g->fence, lock.core_->SessionLostToken(g->session)));
}

LockGuard::LockGuard(LockGuard&& other) noexcept
    : lock_(other.lock_),
      fence_(other.fence_),
      lost_(std::move(other.lost_)),
      held_(std::exchange(other.held_, false)) {}

LockGuard& LockGuard::operator=(LockGuard&& other) noexcept {
  if (this != &other) {
    (void)Release();
    lock_ = other.lock_;
    fence_ = other.fence_;
    lost_ = std::move(other.lost_);
    held_ = std::exchange(other.held_, false);
  }
  return *this;
}

LockGuard::~LockGuard() { (void)Release(); }

absl::Status LockGuard::Release(const CallOptions& options) {
  if (!held_) return absl::OkStatus();
  held_ = false;
  WriteOptions release = options;
  release.if_version = fence_.version;
  return lock_.Release(release);
}

namespace internal {

absl::StatusOr<Lock> GetLock(std::shared_ptr<ClientCore> core, std::string_view name,
                             const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kLockKind, name, options);
  if (!opened.ok()) return opened;
  return Lock(std::move(core), std::string(name));
}

}  // namespace internal

absl::StatusOr<Lock> GetLock(const Client& client, std::string_view name,
                             const CallOptions& options) {
  return internal::GetLock(internal_core(client), name, options);
}

absl::StatusOr<Lock> GetLock(std::string_view name, const CallOptions& options) {
  return GetLock(DefaultClient(), name, options);
}

}  // namespace atomix
