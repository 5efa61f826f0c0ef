// Map prefix locks: MapLockPrefix, MapUnlockPrefix and MapPrefixLocks, and
// the guard that unlocks a grant.
#include "atomix/prefix_lock.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "primitives/src/grant.h"
#include "primitives/src/request.h"
#include "primitives/src/send.h"
#include "sdk/src/client_core.h"

namespace atomix {
namespace internal {
namespace {

constexpr OpWire<v1::MapRequest, v1::MapResponse> kMapWire{
    kMapKind, &v1::Request::mutable_map, &v1::Response::has_map, &v1::Response::mutable_map};

// A grant that reached nobody goes back: UnlockPrefix by its fence, which
// frees exactly that grant and nothing a later holder got.
GiveBack UnlockLateGrant(const std::string& name, const std::string& prefix) {
  return [name, prefix](const v1::Response& late) -> std::optional<v1::Request> {
    if (late.has_error() || !late.has_map() || !late.map().acquired()) return std::nullopt;
    v1::Request unlock = NewRequest(kMapKind, name);
    auto* op = unlock.mutable_map()->mutable_unlock_prefix();
    op->set_prefix(prefix);
    op->set_if_version(late.map().version());
    return unlock;
  };
}

}  // namespace

Future<std::optional<PrefixLock>> LockPrefixAsync(const MapCore& map, std::string prefix,
                                                  bool try_only, const CallOptions& options) {
  const std::shared_ptr<ClientCore>& core = map.client();
  if (core == nullptr) return Refused<std::optional<PrefixLock>>(nullptr, NoCore());
  // The session the grant belongs to: the one in place when it was sent.
  const uint64_t before = core->session_id();
  v1::MapRequest op;
  op.mutable_lock_prefix()->set_prefix(prefix);
  op.mutable_lock_prefix()->set_try_only(try_only);
  CallKind kind;
  if (!try_only) {
    kind.blocking = true;
    kind.give_back = UnlockLateGrant(map.name(), prefix);
  }
  return CallOp<std::optional<PrefixLock>>(
      *core, kMapWire, map.name(), std::move(op), try_only ? "try_lock_prefix" : "lock_prefix",
      options, std::move(kind),
      [weak = std::weak_ptr<ClientCore>(core), name = map.name(), prefix = std::move(prefix),
       try_only, before](v1::MapResponse& r) -> absl::StatusOr<std::optional<PrefixLock>> {
        if (!r.acquired()) {
          if (try_only) return std::optional<PrefixLock>();
          return absl::InternalError(
              absl::StrCat("broker answered map \"", name, "\" lock_prefix without a grant"));
        }
        return std::optional<PrefixLock>(
            PrefixLock{prefix, Fence{r.version()}, GrantSession(weak, before)});
      });
}

Future<void> UnlockPrefixAsync(const MapCore& map, std::string prefix,
                               const WriteOptions& options) {
  const std::shared_ptr<ClientCore>& core = map.client();
  if (core == nullptr) return Refused<void>(nullptr, NoCore());
  if (options.if_fence || options.ephemeral || options.ttl) {
    return Refused<void>(core.get(),
                         absl::InvalidArgumentError(absl::StrCat(
                             "map \"", map.name(), "\": UnlockPrefix takes only IfVersion")));
  }
  v1::MapRequest op;
  auto* unlock = op.mutable_unlock_prefix();
  unlock->set_prefix(std::move(prefix));
  if (options.if_version) unlock->set_if_version(*options.if_version);
  return CallOp<void>(*core, kMapWire, map.name(), std::move(op), "unlock_prefix", options,
                      CallKind{}, [](v1::MapResponse&) { return absl::OkStatus(); });
}

Future<PrefixLockPage> PrefixLocksAsync(const MapCore& map, std::string start_after, uint32_t limit,
                                        const CallOptions& options) {
  const std::shared_ptr<ClientCore>& core = map.client();
  if (core == nullptr) return Refused<PrefixLockPage>(nullptr, NoCore());
  v1::MapRequest op;
  op.mutable_prefix_locks()->set_start_after(std::move(start_after));
  op.mutable_prefix_locks()->set_limit(limit);
  return CallOp<PrefixLockPage>(
      *core, kMapWire, map.name(), std::move(op), "prefix_locks", options,
      CallKind{.idempotent = true}, [](v1::MapResponse& r) {
        PrefixLockPage page;
        page.more = r.more();
        page.locks.reserve(r.prefix_locks_size());
        for (v1::PrefixLock& l : *r.mutable_prefix_locks()) {
          page.locks.push_back(
              PrefixLock{std::move(*l.mutable_prefix()), Fence{l.fence()}, l.session_id()});
        }
        return page;
      });
}

StreamRange<PrefixLock> PrefixLockRange(const MapCore& map, const ListOptions& options) {
  if (!options.prefix.empty()) {
    absl::Status refused = absl::InvalidArgumentError(
        absl::StrCat("map \"", map.name(), "\": PrefixLocks takes no prefix"));
    return StreamRange<PrefixLock>([refused](std::vector<PrefixLock>&, bool&) { return refused; });
  }
  // Pages follow on from the last prefix; held prefixes never overlap, so
  // the empty prefix, when held, is the only one.
  auto last = std::make_shared<std::optional<std::string>>();
  return StreamRange<PrefixLock>(
      [map, options, last](std::vector<PrefixLock>& page, bool& more) -> absl::Status {
        auto got = PrefixLocksAsync(map, last->value_or(""), options.page_size, options).get();
        if (!got.ok()) return got.status();
        if (!got->locks.empty() && last->has_value() && got->locks.front().prefix <= **last) {
          return ListedOutOfOrder(kMapKind, map.name());
        }
        if (got->more && got->locks.empty()) return EmptyPageWithMore(kMapKind, map.name());
        if (!got->locks.empty()) *last = got->locks.back().prefix;
        page = std::move(got->locks);
        more = got->more;
        return absl::OkStatus();
      });
}

}  // namespace internal

PrefixLockGuard::PrefixLockGuard(internal::MapCore map, PrefixLock grant)
    : map_(std::move(map)), grant_(std::move(grant)), held_(true) {
  if (map_.client() != nullptr) lost_ = map_.client()->SessionLostToken(grant_.session_id);
}

PrefixLockGuard::PrefixLockGuard(PrefixLockGuard&& other) noexcept
    : map_(other.map_),
      grant_(std::move(other.grant_)),
      lost_(std::move(other.lost_)),
      held_(std::exchange(other.held_, false)) {}

PrefixLockGuard& PrefixLockGuard::operator=(PrefixLockGuard&& other) noexcept {
  if (this != &other) {
    (void)Unlock();
    map_ = other.map_;
    grant_ = std::move(other.grant_);
    lost_ = std::move(other.lost_);
    held_ = std::exchange(other.held_, false);
  }
  return *this;
}

PrefixLockGuard::~PrefixLockGuard() { (void)Unlock(); }

absl::Status PrefixLockGuard::Unlock(const CallOptions& options) {
  if (!held_) return absl::OkStatus();
  held_ = false;
  WriteOptions unlock = options;
  unlock.if_version = grant_.fence.version;
  return internal::UnlockPrefixAsync(map_, grant_.prefix, unlock).get();
}

}  // namespace atomix
