// SetState: a sorted set of byte-string elements, each versioned by the
// revision that added it.
//
// Elements live in a B-tree ordered by bytes: Add/Remove/Contains are
// O(log n), Size is O(1), a List page costs O(log n + page). Add of a
// present element, Remove of an absent one and Clear of an empty set change
// nothing and take no revision.
//
// Watch events: Add is INSERTED, Remove REMOVED, Clear one REMOVED per
// element at one revision; an element is an entry with an empty value.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_SET_H_
#define ATOMIX_BROKER_STATE_SET_H_

#include <cstdint>
#include <string>

#include "absl/container/btree_map.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

class SetState final : public StateMachine {
 public:
  // Element -> the revision that added it.
  using Elements = absl::btree_map<std::string, int64_t>;

  v1::PrimitiveType type() const override { return v1::SET; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // The size: "3 elements".
  void Describe(v1::PrimitiveInfo& out) const override;

  const Elements& elements() const { return elements_; }

 private:
  void List(const v1::SetList& list, const Limits& limits,
            v1::SetResponse& out) const;

  Elements elements_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_SET_H_
