// CounterMapState: named 64-bit signed counters under one name, one per
// byte-string key.
//
// Counters live in a B-tree ordered by key bytes: Get/Set/Add/CompareAndSet/
// Remove are O(log n), Size is O(1), a List page costs O(log n + page). An
// absent key reads as 0 (version 0). Set, Add (any delta, including 0) and
// a matching CompareAndSet are writes and always take a new revision; the
// key exists from its first write on. Remove takes one when the key was
// present, Clear when at least one key was. A request that fails (overflow,
// CompareAndSet mismatch) changes nothing.
//
// Watch events carry MapEntry with the counter as 8 bytes, big-endian two's
// complement: a write of an absent key is INSERTED, of a present one UPDATED
// (with the previous entry); Remove is REMOVED, Clear one REMOVED per key,
// all at one revision.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_COUNTER_MAP_H_
#define ATOMIX_BROKER_STATE_COUNTER_MAP_H_

#include <cstdint>
#include <string>

#include "absl/container/btree_map.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

class CounterMapState final : public StateMachine {
 public:
  struct Count {
    int64_t value = 0;
    int64_t version = 0;  // the revision of its last write
  };
  using Counts = absl::btree_map<std::string, Count>;

  v1::PrimitiveType type() const override { return v1::COUNTER_MAP; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // The number of keys: "3 counters".
  void Describe(v1::PrimitiveInfo& out) const override;

  const Counts& counts() const { return counts_; }

 private:
  ApplyResult Add(const v1::Request& request, const ApplyContext& ctx,
                  v1::Response& response);
  ApplyResult CompareAndSet(const v1::Request& request, const ApplyContext& ctx,
                            v1::Response& response);
  ApplyResult Remove(const v1::Request& request, const ApplyContext& ctx,
                     v1::Response& response);
  ApplyResult Clear(const ApplyContext& ctx, v1::Response& response);
  void Get(const std::string& key, v1::CounterMapResponse& out) const;
  void List(const v1::CounterMapList& list, const Limits& limits,
            v1::CounterMapResponse& out) const;

  // Stores `value` under `key` at ctx.revision (the key's iterator is `it`,
  // end() if absent), answers with it and reports the event.
  ApplyResult Write(const std::string& key, Counts::iterator it, int64_t value,
                    const ApplyContext& ctx, v1::Response& response);

  Counts counts_;
};

// The counter as it travels in MapEntry.value: 8 bytes, big-endian two's
// complement.
std::string EncodeCount(int64_t value);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_COUNTER_MAP_H_
