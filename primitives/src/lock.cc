#include "atomix/lock.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "primitives/src/request.h"
#include "sdk/src/client_core.h"

namespace atomix {
namespace {

using internal::PrimitiveKind;

absl::StatusOr<v1::LockResponse> LockResult(absl::StatusOr<v1::Response> response,
                                            const std::string& name, const char* op_name) {
  if (!response.ok()) return response.status();
  if (!response->has_lock()) return internal::MissingResult(PrimitiveKind::kLock, name, op_name);
  return std::move(*response->mutable_lock());
}

absl::StatusOr<v1::LockResponse> CallLock(internal::ClientCore& core, const std::string& name,
                                          v1::Request request, const char* op_name,
                                          const CallOptions& options, bool idempotent) {
  return LockResult(core.Call(std::move(request), options, idempotent), name, op_name);
}

// A grant that reached nobody goes back: Release(IfVersion(fence)), which
// frees exactly that grant and nothing a later holder got.
internal::GiveBack ReleaseLateGrant(const std::string& name) {
  return [name](const v1::Response& late) -> std::optional<v1::Request> {
    if (late.has_error() || !late.has_lock() || !late.lock().acquired()) return std::nullopt;
    v1::Request release = internal::NewRequest(PrimitiveKind::kLock, name);
    release.mutable_lock()->mutable_release()->set_if_version(late.lock().version());
    return release;
  };
}

}  // namespace

absl::StatusOr<std::optional<Fence>> Lock::AcquireImpl(bool try_only, const CallOptions& options,
                                                       uint64_t* session) const {
  if (core_ == nullptr) return internal::NoCore();
  // The session the grant belongs to: the one in place when the request was
  // sent. If it changes meanwhile, the old one is lost, and so is its grant.
  const uint64_t before = core_->session_id();
  v1::Request request = internal::NewRequest(PrimitiveKind::kLock, name_);
  request.mutable_lock()->mutable_acquire()->set_try_only(try_only);
  // A waiting acquire is a blocking call: the broker holds it no longer than
  // the caller waits, withdraws it when the caller gives up, and a grant
  // that crosses the withdrawal is released by the client core.
  absl::StatusOr<v1::Response> response =
      try_only ? core_->Call(std::move(request), options, /*idempotent=*/false)
               : core_->CallBlocking(std::move(request), options, ReleaseLateGrant(name_));
  auto r = LockResult(std::move(response), name_, try_only ? "try_acquire" : "acquire");
  if (!r.ok()) return r.status();
  if (session != nullptr) *session = before != 0 ? before : core_->session_id();
  if (!r->acquired()) {
    if (!try_only) {
      return absl::InternalError(
          absl::StrCat("broker answered lock \"", name_, "\" acquire without a grant"));
    }
    return std::optional<Fence>();
  }
  return std::optional<Fence>(Fence{r->version()});
}

absl::StatusOr<Fence> Lock::Acquire(const CallOptions& options) const {
  auto r = AcquireImpl(/*try_only=*/false, options, nullptr);
  if (!r.ok()) return r.status();
  return **r;
}

absl::StatusOr<std::optional<Fence>> Lock::TryAcquire(const CallOptions& options) const {
  return AcquireImpl(/*try_only=*/true, options, nullptr);
}

absl::Status Lock::Release(const WriteOptions& options) const {
  if (core_ == nullptr) return internal::NoCore();
  if (options.if_fence || options.ephemeral || options.ttl) {
    return absl::InvalidArgumentError(
        absl::StrCat("lock \"", name_, "\": Release takes only IfVersion"));
  }
  v1::Request request = internal::NewRequest(PrimitiveKind::kLock, name_);
  auto* release = request.mutable_lock()->mutable_release();
  if (options.if_version) release->set_if_version(*options.if_version);
  auto r = CallLock(*core_, name_, std::move(request), "release", options, /*idempotent=*/false);
  return r.status();
}

absl::StatusOr<bool> Lock::IsLocked(const LockQueryOptions& options) const {
  if (core_ == nullptr) return internal::NoCore();
  v1::Request request = internal::NewRequest(PrimitiveKind::kLock, name_);
  auto* get = request.mutable_lock()->mutable_get();
  if (options.with_version) get->set_with_version(*options.with_version);
  auto r = CallLock(*core_, name_, std::move(request), "get", options, /*idempotent=*/true);
  if (!r.ok()) return r.status();
  return r->locked();
}

absl::StatusOr<LockGuard> LockGuard::Acquire(const Lock& lock, const CallOptions& options) {
  uint64_t session = 0;
  auto r = lock.AcquireImpl(/*try_only=*/false, options, &session);
  if (!r.ok()) return r.status();
  return LockGuard(lock, **r, lock.core_->SessionLostToken(session));
}

absl::StatusOr<std::optional<LockGuard>> LockGuard::TryAcquire(const Lock& lock,
                                                               const CallOptions& options) {
  uint64_t session = 0;
  auto r = lock.AcquireImpl(/*try_only=*/true, options, &session);
  if (!r.ok()) return r.status();
  if (!r->has_value()) return std::optional<LockGuard>();
  return std::optional<LockGuard>(LockGuard(lock, **r, lock.core_->SessionLostToken(session)));
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
  absl::Status opened = OpenPrimitive(core, PrimitiveKind::kLock, name, options);
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
