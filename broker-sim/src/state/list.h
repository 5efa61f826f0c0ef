// ListState: an ordered list of byte-string items, each versioned by the
// revision that last wrote it (see atomix/v1/list.proto for the ops).
//
// Items live in a std::deque, so the costs per request are:
//   Get, Set, Size                         O(1)
//   Append of k values, PopFront, PopBack  O(k), O(1), O(1)
//   Insert, Remove at index i              O(min(i, size - i)) item moves
//   Slice page of p items                  O(p)
//   Clear, Snapshot, Save                  O(size)
// An insert or remove in the middle of a big list is linear, never worse,
// and moves items (a std::string each), not their bytes. An Append carries
// at most Limits::max_page_size values (one page), so one request's work
// stays bounded whatever the message size.
//
// Every write takes a new revision, which becomes the version of each item
// it writes; a Pop of an empty list, a Clear of an empty one and a request
// that fails change nothing and take none. Pop removes and returns an end
// item in the same step, so two callers never get the same item.
//
// Indexes: a negative index is refused by the validator (INVALID_ARGUMENT);
// an index past the list is OUT_OF_RANGE naming the index and the size.
// Get, Set and Remove take 0..size-1; Insert and Slice's start 0..size.
//
// Watch events (entries with an empty key and `index` their position), in
// an order a watcher can apply one by one: Append and Insert give one
// INSERTED per item at its index; Set UPDATED (entry and previous at the
// index); Remove and Pop REMOVED with previous at its old index; Clear one
// REMOVED per item from the tail to the head, so each carries the index it
// had and still has when applied in order. All events of one step share its
// revision. Watches take no key filters.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_LIST_H_
#define ATOMIX_BROKER_STATE_LIST_H_

#include <cstdint>
#include <deque>
#include <string>

#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

class ListState final : public StateMachine {
 public:
  struct Item {
    std::string value;
    int64_t version = 0;
  };
  using Items = std::deque<Item>;

  v1::PrimitiveType type() const override { return v1::LIST; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // The size: "3 items".
  void Describe(v1::PrimitiveInfo& out) const override;

  const Items& items() const { return items_; }

 private:
  ApplyResult Append(const v1::ListAppend& append, const ApplyContext& ctx,
                     v1::ListResponse& out);
  ApplyResult Insert(const v1::Request& request, const ApplyContext& ctx,
                     v1::Response& response);
  ApplyResult Set(const v1::Request& request, const ApplyContext& ctx,
                  v1::Response& response);
  ApplyResult Remove(const v1::Request& request, const ApplyContext& ctx,
                     v1::Response& response);
  ApplyResult Pop(const v1::ListPop& pop, const ApplyContext& ctx,
                  v1::ListResponse& out);
  ApplyResult Clear(const ApplyContext& ctx, v1::ListResponse& out);
  void Get(const v1::Request& request, v1::Response& response) const;
  void Slice(const v1::Request& request, const Limits& limits,
             v1::Response& response) const;

  // Whether `index` names an item (or, with `end_ok`, the position after
  // the last one); otherwise fills the OUT_OF_RANGE answer.
  bool CheckIndex(const v1::Request& request, int64_t index, bool end_ok,
                  v1::Response& response) const;
  // Whether the item at `index` matches an optional if_version; otherwise
  // fills the FAILED_PRECONDITION answer with Error.current.
  bool CheckVersion(const v1::Request& request, int64_t index,
                    bool has_if_version, int64_t if_version,
                    v1::Response& response) const;
  // Removes the item at `index` into out.entry, with its REMOVED event.
  ApplyResult RemoveAt(int64_t index, const ApplyContext& ctx,
                       v1::ListResponse& out);

  Items items_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_LIST_H_
