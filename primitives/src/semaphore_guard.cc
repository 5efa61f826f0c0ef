#include <optional>
#include <utility>

#include "atomix/semaphore.h"
#include "sdk/src/client_core.h"

namespace atomix {

absl::StatusOr<SemaphoreGuard> SemaphoreGuard::Acquire(const Semaphore& semaphore, int64_t n,
                                                       const CallOptions& options) {
  auto g = semaphore.AcquireImpl(n, /*try_only=*/false, options).get();
  if (!g.ok()) return g.status();
  return SemaphoreGuard(semaphore, *g->permits, semaphore.core_->SessionLostToken(g->session));
}

absl::StatusOr<std::optional<SemaphoreGuard>> SemaphoreGuard::TryAcquire(
    const Semaphore& semaphore, int64_t n, const CallOptions& options) {
  auto g = semaphore.AcquireImpl(n, /*try_only=*/true, options).get();
  if (!g.ok()) return g.status();
  if (!g->permits.has_value()) return std::optional<SemaphoreGuard>();
  return std::optional<SemaphoreGuard>(
      SemaphoreGuard(semaphore, *g->permits, semaphore.core_->SessionLostToken(g->session)));
}

SemaphoreGuard::SemaphoreGuard(SemaphoreGuard&& other) noexcept
    : semaphore_(other.semaphore_),
      permits_(other.permits_),
      lost_(std::move(other.lost_)),
      held_(std::exchange(other.held_, false)) {}

SemaphoreGuard& SemaphoreGuard::operator=(SemaphoreGuard&& other) noexcept {
  if (this != &other) {
    (void)Release();
    semaphore_ = other.semaphore_;
    permits_ = other.permits_;
    lost_ = std::move(other.lost_);
    held_ = std::exchange(other.held_, false);
  }
  return *this;
}

SemaphoreGuard::~SemaphoreGuard() { (void)Release(); }

absl::Status SemaphoreGuard::Release(const CallOptions& options) {
  if (!held_) return absl::OkStatus();
  held_ = false;
  WriteOptions release = options;
  release.if_version = permits_.fence.version;
  return semaphore_.Release(permits_.count, release);
}

}  // namespace atomix
