// MapState: a sorted map of byte-string keys to versioned byte-string values.
//
// Entries live in a B-tree ordered by bytes, so Get/Put/Remove are
// O(log n), Size is O(1), and a List page costs O(log n + page). Put, Insert
// and Update are writes and always take a new revision; Remove takes one
// when it removes an entry, Clear when the map was not empty. A request that
// fails changes nothing.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_MAP_H_
#define ATOMIX_BROKER_STATE_MAP_H_

#include <cstdint>
#include <string>

#include "absl/container/btree_map.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

class MapState final : public StateMachine {
 public:
  struct Entry {
    std::string value;
    int64_t version = 0;
  };
  using Entries = absl::btree_map<std::string, Entry>;

  v1::PrimitiveType type() const override { return v1::MAP; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;

  const Entries& entries() const { return entries_; }

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

  Entries entries_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_MAP_H_
