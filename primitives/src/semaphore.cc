#include "atomix/semaphore.h"

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

constexpr internal::PrimitiveKind kSemaphoreKind{v1::SEMAPHORE, "semaphore", "permit"};
constexpr internal::OpWire<v1::SemaphoreRequest, v1::SemaphoreResponse> kSemaphoreWire{
    kSemaphoreKind, &v1::Request::mutable_semaphore, &v1::Response::has_semaphore,
    &v1::Response::mutable_semaphore};

SemaphoreHolder ToHolder(const v1::SemaphoreGrant& g) {
  return SemaphoreHolder{g.fence(), g.session_id(), g.permits()};
}

// Watch events and snapshots carry a v1::SemaphoreWatch detail.
auto SemaphoreDecoder() {
  return internal::DecodeDetail<SemaphoreEvent, v1::SemaphoreWatch>(
      kSemaphoreKind,
      [](const v1::SemaphoreWatch& w, const internal::RawWatchEvent& r) {
        SemaphoreEvent e;
        e.type = r.type;
        e.revision = r.revision;
        e.permits = w.permits();
        e.available = w.available();
        if (w.has_grant()) e.grant = ToHolder(w.grant());
        return e;
      },
      [](const v1::SemaphoreWatch& w, EventType type, const internal::RawSnapshot& raw) {
        SemaphoreEvent e;
        e.type = type;
        e.revision = raw.revision;
        e.permits = w.permits();
        e.available = w.available();
        e.reason = raw.reason;
        for (const v1::SemaphoreGrant& g : w.holders()) e.holders.push_back(ToHolder(g));
        return e;
      });
}

v1::Request ReleaseOf(const std::string& name, Version fence, int64_t n) {
  v1::Request release = internal::NewRequest(kSemaphoreKind, name);
  auto* op = release.mutable_semaphore()->mutable_release();
  op->set_permits(n);
  op->set_if_version(fence);
  return release;
}

// A grant that reached nobody goes back: exactly its `n` permits of the
// grant with its fence, in the session it was granted to (the core sends it
// there), and nothing of a later grant.
internal::GiveBack GiveBackLateGrant(const std::string& name, int64_t n) {
  return [name, n](const v1::Response& late) -> std::optional<v1::Request> {
    if (late.has_error() || !late.has_semaphore() || !late.semaphore().acquired()) {
      return std::nullopt;
    }
    return ReleaseOf(name, late.semaphore().version(), n);
  };
}

}  // namespace

Future<Semaphore::Grant> Semaphore::AcquireImpl(int64_t n, bool try_only,
                                                const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<Grant>(nullptr, internal::NoCore());
  // The session the grant belongs to: the one in place when the request was
  // sent. If it changes meanwhile, the old one is lost, and so is its grant.
  const uint64_t before = core_->session_id();
  v1::SemaphoreRequest op;
  op.mutable_acquire()->set_permits(n);
  op.mutable_acquire()->set_try_only(try_only);
  internal::CallKind kind;
  if (!try_only) {
    kind.blocking = true;
    kind.give_back = GiveBackLateGrant(name_, n);
  }
  return internal::CallOp<Grant>(
      *core_, kSemaphoreWire, name_, std::move(op), try_only ? "try_acquire" : "acquire", options,
      std::move(kind),
      [core = std::weak_ptr<internal::ClientCore>(core_), name = name_, n, try_only,
       before](v1::SemaphoreResponse& r) -> absl::StatusOr<Grant> {
        Grant grant;
        grant.session = internal::GrantSession(core, before);
        if (!r.acquired()) {
          if (!try_only) {
            return absl::InternalError(
                absl::StrCat("broker answered semaphore \"", name, "\" acquire without a grant"));
          }
          return grant;
        }
        grant.permits = Permits{Fence{r.version()}, n};
        return grant;
      });
}

Future<Permits> Semaphore::AcquireAsync(int64_t n, const CallOptions& options) const {
  return internal::MapFuture<Permits>(AcquireImpl(n, /*try_only=*/false, options),
                                      [](absl::StatusOr<Grant> g) -> absl::StatusOr<Permits> {
                                        if (!g.ok()) return g.status();
                                        return *g->permits;
                                      });
}

Future<std::optional<Permits>> Semaphore::TryAcquireAsync(int64_t n,
                                                          const CallOptions& options) const {
  return internal::MapFuture<std::optional<Permits>>(
      AcquireImpl(n, /*try_only=*/true, options),
      [](absl::StatusOr<Grant> g) -> absl::StatusOr<std::optional<Permits>> {
        if (!g.ok()) return g.status();
        return g->permits;
      });
}

Future<void> Semaphore::ReleaseAsync(int64_t n, const WriteOptions& options) const {
  if (core_ == nullptr) return internal::Refused<void>(nullptr, internal::NoCore());
  if (options.if_fence || options.ephemeral || options.ttl) {
    return internal::Refused<void>(
        core_.get(), absl::InvalidArgumentError(
                         absl::StrCat("semaphore \"", name_, "\": Release takes only IfVersion")));
  }
  v1::SemaphoreRequest op;
  auto* release = op.mutable_release();
  release->set_permits(n);
  if (options.if_version) release->set_if_version(*options.if_version);
  return internal::CallOp<void>(*core_, kSemaphoreWire, name_, std::move(op), "release", options,
                                internal::CallKind{},
                                [](v1::SemaphoreResponse&) { return absl::OkStatus(); });
}

Future<int64_t> Semaphore::GetAsync(Count count, const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<int64_t>(nullptr, internal::NoCore());
  v1::SemaphoreRequest op;
  op.mutable_get();
  return internal::CallOp<int64_t>(*core_, kSemaphoreWire, name_, std::move(op), "get", options,
                                   internal::CallKind{.idempotent = true},
                                   [count](v1::SemaphoreResponse& r) {
                                     switch (count) {
                                       case Count::kPermits:
                                         return r.permits();
                                       case Count::kWaiters:
                                         return r.waiters();
                                       case Count::kAvailable:
                                         break;
                                     }
                                     return r.available();
                                   });
}

Future<int64_t> Semaphore::AvailableAsync(const CallOptions& options) const {
  return GetAsync(Count::kAvailable, options);
}

Future<int64_t> Semaphore::PermitCountAsync(const CallOptions& options) const {
  return GetAsync(Count::kPermits, options);
}

Future<int64_t> Semaphore::WaitersAsync(const CallOptions& options) const {
  return GetAsync(Count::kWaiters, options);
}

Future<void> Semaphore::SetPermitsAsync(int64_t n, const CallOptions& options) const {
  if (core_ == nullptr) return internal::Refused<void>(nullptr, internal::NoCore());
  v1::SemaphoreRequest op;
  op.mutable_set_permits()->set_permits(n);
  return internal::CallOp<void>(*core_, kSemaphoreWire, name_, std::move(op), "set_permits",
                                options, internal::CallKind{},
                                [](v1::SemaphoreResponse&) { return absl::OkStatus(); });
}

StreamRange<SemaphoreHolder> Semaphore::Holders(const CallOptions& options) const {
  struct Cursor {
    std::shared_ptr<internal::ClientCore> core;
    std::string name;
    CallOptions options;
    Version after = 0;
    absl::Status failed;  // ends the range after the page it was found in
  };
  auto cursor = std::make_shared<Cursor>(Cursor{core_, name_, options, 0, absl::OkStatus()});
  return StreamRange<SemaphoreHolder>(
      [cursor](std::vector<SemaphoreHolder>& page, bool& more) -> absl::Status {
        if (cursor->core == nullptr) return internal::NoCore();
        if (!cursor->failed.ok()) return cursor->failed;
        v1::SemaphoreRequest op;
        op.mutable_holders()->set_start_after(cursor->after);
        absl::StatusOr<v1::SemaphoreResponse> r =
            internal::CallOp<v1::SemaphoreResponse>(
                *cursor->core, kSemaphoreWire, cursor->name, std::move(op), "holders",
                cursor->options, internal::CallKind{.idempotent = true},
                [](v1::SemaphoreResponse& r) { return std::move(r); })
                .get();
        if (!r.ok()) return r.status();
        // Fences increase from page to page; within a page, grants of one
        // step share a fence.
        for (const v1::SemaphoreGrant& g : r->holders()) {
          if (g.fence() <= cursor->after || (!page.empty() && g.fence() < page.back().fence)) {
            // Deliver the grants before it, then the error.
            cursor->failed = internal::ListedOutOfOrder(kSemaphoreKind, cursor->name);
            more = true;
            return absl::OkStatus();
          }
          page.push_back(ToHolder(g));
        }
        if (r->holders().empty() && r->more()) {
          return internal::EmptyPageWithMore(kSemaphoreKind, cursor->name);
        }
        if (!page.empty()) cursor->after = page.back().fence;
        more = r->more();
        return absl::OkStatus();
      });
}

absl::StatusOr<Channel<SemaphoreEvent>> Semaphore::Watch(const WatchOptions& options) const {
  return internal::OpenWatch<SemaphoreEvent>(
      core_, internal::WatchTarget{.kind = kSemaphoreKind, .name = name_}, options,
      SemaphoreDecoder());
}

absl::StatusOr<Permits> Semaphore::Acquire(int64_t n, const CallOptions& options) const {
  return AcquireAsync(n, options).get();
}

absl::StatusOr<std::optional<Permits>> Semaphore::TryAcquire(int64_t n,
                                                             const CallOptions& options) const {
  return TryAcquireAsync(n, options).get();
}

absl::Status Semaphore::Release(int64_t n, const WriteOptions& options) const {
  return ReleaseAsync(n, options).get();
}

absl::StatusOr<int64_t> Semaphore::Available(const CallOptions& options) const {
  return AvailableAsync(options).get();
}

absl::StatusOr<int64_t> Semaphore::PermitCount(const CallOptions& options) const {
  return PermitCountAsync(options).get();
}

absl::StatusOr<int64_t> Semaphore::Waiters(const CallOptions& options) const {
  return WaitersAsync(options).get();
}

absl::Status Semaphore::SetPermits(int64_t n, const CallOptions& options) const {
  return SetPermitsAsync(n, options).get();
}

namespace internal {

absl::StatusOr<Semaphore> GetSemaphore(std::shared_ptr<ClientCore> core, std::string_view name,
                                       int64_t permits, const CallOptions& options) {
  absl::Status opened = OpenPrimitive(core, kSemaphoreKind, name, options);
  if (!opened.ok()) return opened;
  v1::SemaphoreRequest op;
  op.mutable_init()->set_permits(permits);
  const std::string owned(name);
  absl::Status init = CallOp<void>(*core, kSemaphoreWire, owned, std::move(op), "init", options,
                                   CallKind{.idempotent = true},
                                   [](v1::SemaphoreResponse&) { return absl::OkStatus(); })
                          .get();
  if (!init.ok()) return init;
  return Semaphore(std::move(core), owned);
}

}  // namespace internal

absl::StatusOr<Semaphore> GetSemaphore(const Client& client, std::string_view name, int64_t permits,
                                       const CallOptions& options) {
  return internal::GetSemaphore(internal_core(client), name, permits, options);
}

absl::StatusOr<Semaphore> GetSemaphore(std::string_view name, int64_t permits,
                                       const CallOptions& options) {
  return GetSemaphore(DefaultClient(), name, permits, options);
}

}  // namespace atomix
