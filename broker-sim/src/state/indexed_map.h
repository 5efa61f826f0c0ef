// IndexedMapState: an insertion-ordered map of byte-string keys to versioned
// byte-string values (see indexed_map.proto).
//
// Each key gets an index when it is inserted: next_index_, which starts at 1
// and only grows, so indexes are never reused (not after Remove, Clear or a
// Save/Load) and never move. Writing an existing key keeps its index.
//
// Two B-trees keep every operation O(log n): key -> entry (with its index)
// for Put/Get/Remove, and index -> key (a second copy of the key) for
// First/Last/At/Next/Prev and paged listing in index order. Size is O(1); a
// List page costs O((page) log n). Put always takes a new revision; Remove
// takes one when it removes an entry, Clear when it removes at least one. A
// request that fails changes nothing.
//
// Watch events carry entries with their index: a Put of an absent key is
// INSERTED, of a present one UPDATED (with the previous entry, same index);
// Remove gives one REMOVED, Clear one REMOVED per entry in index order, all
// at the step's revision.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_INDEXED_MAP_H_
#define ATOMIX_BROKER_STATE_INDEXED_MAP_H_

#include <cstdint>
#include <string>

#include "absl/container/btree_map.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

class IndexedMapState final : public StateMachine {
 public:
  struct Entry {
    int64_t index = 0;
    std::string value;
    int64_t version = 0;
  };
  using ByKey = absl::btree_map<std::string, Entry>;
  using ByIndex = absl::btree_map<int64_t, std::string>;

  v1::PrimitiveType type() const override { return v1::INDEXED_MAP; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // The size: "3 entries".
  void Describe(v1::PrimitiveInfo& out) const override;

  const ByKey& by_key() const { return by_key_; }
  const ByIndex& by_index() const { return by_index_; }
  int64_t next_index() const { return next_index_; }

 private:
  ApplyResult Put(const v1::Request& request, const ApplyContext& ctx,
                  v1::Response& response);
  ApplyResult Remove(const v1::Request& request, const ApplyContext& ctx,
                     v1::Response& response);
  ApplyResult Clear(const ApplyContext& ctx, v1::IndexedMapResponse& out);
  void Get(const v1::IndexedMapGet& get, v1::IndexedMapResponse& out) const;
  void Navigate(const v1::IndexedMapNavigate& navigate,
                v1::IndexedMapResponse& out) const;
  void List(const v1::IndexedMapList& list, const Limits& limits,
            v1::IndexedMapResponse& out) const;

  // The entry `at` names (none for end()) into `out`, marked present.
  void FillAt(ByIndex::const_iterator at, v1::IndexedMapResponse& out) const;

  ByKey by_key_;
  ByIndex by_index_;
  int64_t next_index_ = 1;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_INDEXED_MAP_H_
