// MultiMapState: byte-string keys, each holding a set of byte-string values;
// every (key, value) pair is versioned by the revision that added it.
//
// Pairs live in one B-tree ordered by (key, value), so Put, Remove,
// Contains (of a key or of a pair) are O(log n), Size is O(1), a Get or List
// page costs O(log n + page), and RemoveKey costs O(log n + the key's
// values). A key with no values does not exist: removing its last value
// removes the key. Put of a present pair, Remove of an absent one, and
// RemoveKey or Clear with nothing to remove change nothing and take no
// revision.
//
// Watch events: Put is INSERTED (entry), Remove REMOVED (previous);
// RemoveKey and Clear give one REMOVED per pair, in (key, value) order, all
// at one revision. Their cost is one event per pair removed, each pair
// having been added by a request of its own, as for Map's Clear.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_MULTI_MAP_H_
#define ATOMIX_BROKER_STATE_MULTI_MAP_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/container/btree_map.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

class MultiMapState final : public StateMachine {
 public:
  // (key, value) -> the revision that added the pair.
  using Pairs = absl::btree_map<std::pair<std::string, std::string>, int64_t>;

  v1::PrimitiveType type() const override { return v1::MULTI_MAP; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // The number of (key, value) pairs: "3 values".
  void Describe(v1::PrimitiveInfo& out) const override;

  const Pairs& pairs() const { return pairs_; }

 private:
  ApplyResult Put(const v1::MultiMapPut& put, const ApplyContext& ctx,
                  v1::MultiMapResponse& out);
  ApplyResult Remove(const v1::MultiMapRemove& remove, const ApplyContext& ctx,
                     v1::MultiMapResponse& out);
  // Removes the pairs in [first, last), one REMOVED event each, and answers
  // with their number (and the revision, if any).
  ApplyResult RemoveRange(Pairs::iterator first, Pairs::iterator last,
                          const ApplyContext& ctx, v1::MultiMapResponse& out);
  bool Contains(const v1::MultiMapContains& contains) const;
  void Get(const v1::MultiMapGet& get, const Limits& limits,
           v1::MultiMapResponse& out) const;
  void List(const v1::MultiMapList& list, const Limits& limits,
            v1::MultiMapResponse& out) const;

  // The first pair of `key`, or the first pair after it if it has none.
  Pairs::const_iterator KeyBegin(const std::string& key) const;
  Pairs::iterator KeyBegin(const std::string& key);
  // The first pair past every pair of `key`.
  Pairs::iterator KeyEnd(Pairs::iterator from, const std::string& key);

  Pairs pairs_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_MULTI_MAP_H_
