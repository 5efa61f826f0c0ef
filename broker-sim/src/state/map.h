// MapState: a sorted map of byte-string keys to versioned byte-string values.
//
// Entries live in a B-tree ordered by bytes, so Get/Put/Remove are
// O(log n), Size is O(1), and a List page costs O(log n + page). Put, Insert
// and Update are writes and always take a new revision; Remove takes one
// when it removes an entry, Clear and RemovePrefix when they remove at least
// one. A request that fails changes nothing.
//
// Watch events: a write of an absent key is INSERTED, of a present one
// UPDATED (with the previous entry); Remove, Clear, RemovePrefix and the end
// of an ephemeral entry's session give one REMOVED per entry, a TTL expiry
// EXPIRED; all the events of one step share its revision.
//
// Writes may be ephemeral (the entry belongs to Request.session_id and goes
// when EndSession names that session) and may carry a TTL (the entry goes
// when Advance runs at or after ctx.now + ttl_ms, one entry per revision).
//
// Prefix locks (MapLockPrefix, see prefix_locks.h) live beside the entries:
// while a prefix is held, writes by other sessions under it fail with
// FAILED_PRECONDITION unless they carry the holder's fence (named by the
// map itself); TTL expiry and the end of an ephemeral entry's session are
// not held back. Taking, releasing and granting prefix locks are mutations
// without watch events.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_MAP_H_
#define ATOMIX_BROKER_STATE_MAP_H_

#include <cstdint>
#include <optional>
#include <string>

#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/time/time.h"
#include "broker-sim/src/state/prefix_locks.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

class MapState final : public StateMachine {
 public:
  struct Entry {
    std::string value;
    int64_t version = 0;
    uint64_t session = 0;  // owner of an ephemeral entry; 0 if permanent
    absl::Time expires = absl::InfiniteFuture();
  };
  using Entries = absl::btree_map<std::string, Entry>;

  v1::PrimitiveType type() const override { return v1::MAP; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;

  ApplyResult EndSession(uint64_t session_id,
                         const ApplyContext& ctx) override;
  absl::Time NextDeadline() const override;
  ApplyResult Advance(const ApplyContext& ctx) override;
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // "3 entries, 1 prefix lock, 2 waiting"; holders: the prefix locks
  // ("prefix jobs/", fence), then ephemeral entries by session ("entry k");
  // waiters: the prefix lock requests.
  void Describe(v1::PrimitiveInfo& out) const override;
  void Cancel(uint64_t token) override { locks_.Cancel(token); }
  bool FenceHolds(int64_t fence) const override {
    return locks_.FenceHolds(fence);
  }
  int64_t NewestFence() const override { return locks_.NewestFence(); }
  uint64_t FenceReleaseHolder(const v1::Request& request) const override {
    if (!request.has_map() || !request.map().has_unlock_prefix() ||
        !request.map().unlock_prefix().has_if_version()) {
      return 0;
    }
    const v1::MapUnlockPrefix& op = request.map().unlock_prefix();
    auto it = locks_.held().find(op.prefix());
    return it != locks_.held().end() && it->second.fence == op.if_version()
               ? it->second.session
               : 0;
  }
  absl::Status CheckTxnWrite(const v1::Request& request) const override;

  const Entries& entries() const { return entries_; }
  const PrefixLocks& prefix_locks() const { return locks_; }

 private:
  ApplyResult Put(const v1::Request& request, const ApplyContext& ctx,
                  v1::Response& response);
  ApplyResult Insert(const v1::Request& request, const ApplyContext& ctx,
                     v1::Response& response);
  ApplyResult Update(const v1::Request& request, const ApplyContext& ctx,
                     v1::Response& response);
  ApplyResult Remove(const v1::Request& request, const ApplyContext& ctx,
                     v1::Response& response);
  void Get(const v1::MapGet& get, v1::MapResponse& out) const;
  void List(const v1::MapList& list, const Limits& limits,
            v1::MapResponse& out) const;

  // Checks an optional if_version against the entry at `it` (end() if
  // absent); on failure fills the error and returns false.
  bool CheckVersion(const v1::Request& request, const std::string& key,
                    bool has_if_version, int64_t if_version,
                    Entries::const_iterator it, v1::Response& response) const;

  // The present entry an Update or Remove acts on; end() after filling the
  // NOT_FOUND or FAILED_PRECONDITION answer.
  Entries::iterator FindForWrite(const v1::Request& request,
                                 const std::string& key, bool has_if_version,
                                 int64_t if_version, v1::Response& response);
  // Answers a write over `it` with its revision and the previous entry, which
  // is moved out of `it` (the caller replaces or erases it).
  void TakePrevious(Entries::iterator it, const ApplyContext& ctx,
                    v1::Response& response);

  // Removes every entry whose key starts with `prefix` (one REMOVED event
  // each) and counts them in `removed`; mutated if any.
  ApplyResult RemoveMatching(const std::string& prefix,
                             const ApplyContext& ctx, int64_t& removed);
  // Events: `key` written as `entry` over `previous` (nullptr: absent), and
  // `entry` removed (moved into the event).
  static void AddWritten(ApplyResult& result, const std::string& key,
                         const Entry& entry, const v1::MapEntry* previous,
                         const ApplyContext& ctx);
  static void AddRemoved(ApplyResult& result, v1::WatchEvent::Type type,
                         const std::string& key, Entry&& entry,
                         const ApplyContext& ctx);

  // Keeps by_session_ and expiries_ in step with entries_.
  void Index(const std::string& key, const Entry& entry);
  void Unindex(const std::string& key, const Entry& entry);

  // Whether a prefix lock refuses the write `request`.
  std::optional<PrefixLocks::Refusal> RefuseWrite(
      const v1::Request& request) const;

  Entries entries_;
  PrefixLocks locks_;
  absl::btree_set<std::pair<uint64_t, std::string>> by_session_;
  absl::btree_set<std::pair<absl::Time, std::string>> expiries_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_MAP_H_
