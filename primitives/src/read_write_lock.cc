#include "atomix/read_write_lock.h"

#include <optional>
#include <string>
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

constexpr internal::PrimitiveKind kReadWriteLockKind{v1::READ_WRITE_LOCK, "read-write lock",
                                                     "grant"};
constexpr internal::OpWire<v1::ReadWriteLockRequest, v1::ReadWriteLockResponse> kRwWire{
    kReadWriteLockKind, &v1::Request::mutable_read_write_lock, &v1::Response::has_read_write_lock,
    &v1::Response::mutable_read_write_lock};

ReadWriteLockMode FromWire(int mode) {
  switch (mode) {
    case v1::READ:
      return ReadWriteLockMode::kRead;
    case v1::WRITE:
      return ReadWriteLockMode::kWrite;
    default:
      return ReadWriteLockMode::kNone;
  }
}

v1::LockMode ToWire(ReadWriteLockMode mode) {
  return mode == ReadWriteLockMode::kRead ? v1::READ : v1::WRITE;
}

const char* ModeWord(ReadWriteLockMode mode) {
  return mode == ReadWriteLockMode::kRead ? "read" : "write";
}

ReadWriteLockGrant FromWire(const v1::ReadWriteLockGrant& g) {
  return ReadWriteLockGrant{g.fence(), g.session_id(), FromWire(g.mode())};
}

// Watch events and snapshots carry a v1::ReadWriteLockWatch detail.
auto ReadWriteLockDecoder() {
  return internal::DecodeDetail<ReadWriteLockEvent, v1::ReadWriteLockWatch>(
      kReadWriteLockKind,
      [](const v1::ReadWriteLockWatch& w, const internal::RawWatchEvent& r) {
        ReadWriteLockEvent e;
        e.type = r.type;
        e.revision = r.revision;
        e.grant = FromWire(w.grant());
        e.mode = FromWire(w.mode());
        e.readers = w.readers();
        return e;
      },
      [](const v1::ReadWriteLockWatch& w, EventType type, const internal::RawSnapshot& raw) {
        ReadWriteLockEvent e;
        e.type = type;
        e.revision = raw.revision;
        e.mode = FromWire(w.mode());
        e.readers = w.readers();
        e.reason = raw.reason;
        for (const v1::ReadWriteLockGrant& g : w.holders()) e.holders.push_back(FromWire(g));
        return e;
      });
}

// A grant that reached nobody goes back: a release of exactly that grant
// (its mode and fence), sent for the session that asked.
internal::GiveBack ReleaseLateGrant(const std::string& name, v1::LockMode mode) {
  return [name, mode](const v1::Response& late) -> std::optional<v1::Request> {
    if (late.has_error() || !late.has_read_write_lock() || !late.read_write_lock().acquired()) {
      return std::nullopt;
    }
    v1::Request release = internal::NewRequest(kReadWriteLockKind, name);
    auto* op = release.mutable_read_write_lock()->mutable_release();
    op->set_mode(mode);
    op->set_if_version(late.read_write_lock().version());
    return release;
  };
}

}  // namespace

Future<ReadWriteLock::Grant> ReadWriteLock::AcquireImpl(ReadWriteLockMode mode, bool try_only,
                                                        const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<Grant>(nullptr, internal::NoCore());
  // The session the grant belongs to: the one in place when it was sent.
  const uint64_t before = core_->session_id();
  v1::ReadWriteLockRequest op;
  op.mutable_acquire()->set_mode(ToWire(mode));
  op.mutable_acquire()->set_try_only(try_only);
  internal::CallKind kind;
  if (!try_only) {
    kind.blocking = true;
    kind.give_back = ReleaseLateGrant(name_, ToWire(mode));
  }
  const char* op_name =
      try_only ? (mode == ReadWriteLockMode::kRead ? "try_acquire_read" : "try_acquire_write")
               : (mode == ReadWriteLockMode::kRead ? "acquire_read" : "acquire_write");
  return internal::CallOp<Grant>(
      *core_, kRwWire, name_, std::move(op), op_name, options, std::move(kind),
      [core = std::weak_ptr<internal::ClientCore>(core_), name = name_, try_only, mode,
       before](v1::ReadWriteLockResponse& r) -> absl::StatusOr<Grant> {
        Grant grant;
        grant.session = internal::GrantSession(core, before);
        if (!r.acquired()) {
          if (!try_only) {
            return absl::InternalError(absl::StrCat("broker answered read-write lock \"", name,
                                                    "\" ", ModeWord(mode),
                                                    " acquire without a grant"));
          }
          return grant;
        }
        grant.fence = Fence{r.version()};
        return grant;
      });
}

Future<Fence> ReadWriteLock::AcquireReadAsync(const CallOptions& options) const {
  return internal::MapFuture<Fence>(AcquireImpl(ReadWriteLockMode::kRead, false, options),
                                    [](absl::StatusOr<Grant> g) -> absl::StatusOr<Fence> {
                                      if (!g.ok()) return g.status();
                                      return *g->fence;
                                    });
}

Future<Fence> ReadWriteLock::AcquireWriteAsync(const CallOptions& options) const {
  return internal::MapFuture<Fence>(AcquireImpl(ReadWriteLockMode::kWrite, false, options),
                                    [](absl::StatusOr<Grant> g) -> absl::StatusOr<Fence> {
                                      if (!g.ok()) return g.status();
                                      return *g->fence;
                                    });
}

Future<std::optional<Fence>> ReadWriteLock::TryAcquireReadAsync(const CallOptions& options) const {
  return internal::MapFuture<std::optional<Fence>>(
      AcquireImpl(ReadWriteLockMode::kRead, true, options),
      [](absl::StatusOr<Grant> g) -> absl::StatusOr<std::optional<Fence>> {
        if (!g.ok()) return g.status();
        return g->fence;
      });
}

Future<std::optional<Fence>> ReadWriteLock::TryAcquireWriteAsync(const CallOptions& options) const {
  return internal::MapFuture<std::optional<Fence>>(
      AcquireImpl(ReadWriteLockMode::kWrite, true, options),
      [](absl::StatusOr<Grant> g) -> absl::StatusOr<std::optional<Fence>> {
        if (!g.ok()) return g.status();
        return g->fence;
      });
}

Future<void> ReadWriteLock::ReleaseImpl(ReadWriteLockMode mode, const WriteOptions& options) const {
  if (core_ == nullptr) return internal::Refused<void>(nullptr, internal::NoCore());
  if (options.if_fence || options.ephemeral || options.ttl) {
    return internal::Refused<void>(
        core_.get(),
        absl::InvalidArgumentError(absl::StrCat("read-write lock \"", name_, "\": Release",
                                                mode == ReadWriteLockMode::kRead ? "Read" : "Write",
                                                " takes only IfVersion")));
  }
  v1::ReadWriteLockRequest op;
  auto* release = op.mutable_release();
  release->set_mode(ToWire(mode));
  if (options.if_version) release->set_if_version(*options.if_version);
  return internal::CallOp<void>(*core_, kRwWire, name_, std::move(op),
                                mode == ReadWriteLockMode::kRead ? "release_read" : "release_write",
                                options, internal::CallKind{},
                                [](v1::ReadWriteLockResponse&) { return absl::OkStatus(); });
}

Future<void> ReadWriteLock::ReleaseReadAsync(const WriteOptions& options) const {
  return ReleaseImpl(ReadWriteLockMode::kRead, options);
}

Future<void> ReadWriteLock::ReleaseWriteAsync(const WriteOptions& options) const {
  return ReleaseImpl(ReadWriteLockMode::kWrite, options);
}

Future<ReadWriteLockInfo> ReadWriteLock::GetAsync(const LockQueryOptions& options) const {
  if (core_ == nullptr) return internal::Refused<ReadWriteLockInfo>(nullptr, internal::NoCore());
  v1::ReadWriteLockRequest op;
  auto* get = op.mutable_get();
  if (options.with_version) get->set_with_version(*options.with_version);
  return internal::CallOp<ReadWriteLockInfo>(
      *core_, kRwWire, name_, std::move(op), "get", options, internal::CallKind{.idempotent = true},
      [](v1::ReadWriteLockResponse& r) {
        return ReadWriteLockInfo{FromWire(r.mode()), r.readers(), r.writer_fence(), r.locked(),
                                 r.waiters()};
      });
}

Future<bool> ReadWriteLock::IsLockedAsync(const LockQueryOptions& options) const {
  return internal::MapFuture<bool>(
      GetAsync(options), [](absl::StatusOr<ReadWriteLockInfo> info) -> absl::StatusOr<bool> {
        if (!info.ok()) return info.status();
        return info->locked;
      });
}

absl::StatusOr<Channel<ReadWriteLockEvent>> ReadWriteLock::Watch(
    const WatchOptions& options) const {
  return internal::OpenWatch<ReadWriteLockEvent>(
      core_, internal::WatchTarget{.kind = kReadWriteLockKind, .name = name_}, options,
      ReadWriteLockDecoder());
}

absl::StatusOr<Fence> ReadWriteLock::AcquireRead(const CallOptions& options) const {
  return AcquireReadAsync(options).get();
}
absl::StatusOr<Fence> ReadWriteLock::AcquireWrite(const CallOptions& options) const {
  return AcquireWriteAsync(options).get();
}
absl::StatusOr<std::optional<Fence>> ReadWriteLock::TryAcquireRead(
    const CallOptions& options) const {
  return TryAcquireReadAsync(options).get();
}
absl::StatusOr<std::optional<Fence>> ReadWriteLock::TryAcquireWrite(
    const CallOptions& options) const {
  return TryAcquireWriteAsync(options).get();
}
absl::Status ReadWriteLock::ReleaseRead(const WriteOptions& options) const {
  return ReleaseReadAsync(options).get();
}
absl::Status ReadWriteLock::ReleaseWrite(const WriteOptions& options) const {
  return ReleaseWriteAsync(options).get();
}
absl::StatusOr<ReadWriteLockInfo> ReadWriteLock::Get(const LockQueryOptions& options) const {
  return GetAsync(options).get();
}
absl::StatusOr<bool> ReadWriteLock::IsLocked(const LockQueryOptions& options) const {
  return IsLockedAsync(options).get();
}

// The guard.

absl::StatusOr<std::optional<ReadWriteLockGuard>> ReadWriteLockGuard::Make(
    const ReadWriteLock& lock, ReadWriteLockMode mode, bool try_only, const CallOptions& options) {
  auto g = lock.AcquireImpl(mode, try_only, options).get();
  if (!g.ok()) return g.status();
  if (!g->fence.has_value()) return std::optional<ReadWriteLockGuard>();
  return std::optional<ReadWriteLockGuard>(
      ReadWriteLockGuard(lock, mode, *g->fence, lock.core_->SessionLostToken(g->session)));
}

absl::StatusOr<ReadWriteLockGuard> ReadWriteLockGuard::AcquireRead(const ReadWriteLock& lock,
                                                                   const CallOptions& options) {
  auto g = Make(lock, ReadWriteLockMode::kRead, false, options);
  if (!g.ok()) return g.status();
  return std::move(**g);
}

absl::StatusOr<ReadWriteLockGuard> ReadWriteLockGuard::AcquireWrite(const ReadWriteLock& lock,
                                                                    const CallOptions& options) {
  auto g = Make(lock, ReadWriteLockMode::kWrite, false, options);
  if (!g.ok()) return g.status();
  return std::move(**g);
}

absl::StatusOr<std::optional<ReadWriteLockGuard>> ReadWriteLockGuard::TryAcquireRead(
    const ReadWriteLock& lock, const CallOptions& options) {
  return Make(lock, ReadWriteLockMode::kRead, true, options);
}

absl::StatusOr<std::optional<ReadWriteLockGuard>> ReadWriteLockGuard::TryAcquireWrite(
    const ReadWriteLock& lock, const CallOptions& options) {
  return Make(lock, ReadWriteLockMode::kWrite, true, options);
}

ReadWriteLockGuard::ReadWriteLockGuard(ReadWriteLockGuard&& other) noexcept
    : lock_(other.lock_),
      mode_(other.mode_),
      fence_(other.fence_),
      lost_(std::move(other.lost_)),
      held_(std::exchange(other.held_, false)) {}

ReadWriteLockGuard& ReadWriteLockGuard::operator=(ReadWriteLockGuard&& other) noexcept {
  if (this != &other) {
    (void)Release();
    lock_ = other.lock_;
    mode_ = other.mode_;
    fence_ = other.fence_;
    lost_ = std::move(other.lost_);
    held_ = std::exchange(other.held_, false);
  }
  return *this;
}

ReadWriteLockGuard::~ReadWriteLockGuard() { (void)Release(); }

absl::Status ReadWriteLockGuard::Release(const CallOptions& options) {
  if (!held_) return absl::OkStatus();
  held_ = false;
  WriteOptions release = options;
  release.if_version = fence_.version;
  return lock_.ReleaseImpl(mode_, release).get();
}

namespace internal {

absl::StatusOr<ReadWriteLock> GetReadWriteLock(std::shared_ptr<ClientCore> core,
                                               std::string_view name, const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kReadWriteLockKind, name, options);
  if (!opened.ok()) return opened;
  return ReadWriteLock(std::move(core), std::string(name));
}

}  // namespace internal

absl::StatusOr<ReadWriteLock> GetReadWriteLock(const Client& client, std::string_view name,
                                               const CallOptions& options) {
  return internal::GetReadWriteLock(internal_core(client), name, options);
}

absl::StatusOr<ReadWriteLock> GetReadWriteLock(std::string_view name, const CallOptions& options) {
  return GetReadWriteLock(DefaultClient(), name, options);
}

}  // namespace atomix
