// WatchHistory: the recent watch events of every primitive, kept so that a
// watcher can read them at its own pace and resume from a revision.
//
// Each record holds all the events of one revision for one name; records are
// immutable and shared (see watch_reader.h), so a reader may keep the ones
// it collected after they were evicted. Records are kept per name in
// revision order, and across all names in one global append order. The
// history is bounded by the total number of events and of their serialized
// bytes: appending evicts the oldest records first, whichever name they
// belong to, until both bounds hold again, but always keeps the newest
// record. A name's "compacted" revision is the highest
// revision evicted from it (0 if none): a reader whose cursor is at or below
// it has lost events and must resynchronize from a snapshot.
//
//   WatchHistory history({.max_events = 100000, .max_bytes = 64 << 20});
//   history.Append("m", 7, std::move(events));
//   v1::WatchResponse out;
//   WatchRead read = history.Read("m", filter, /*cursor=*/5, budget, out);
//
// A store that must not filter and copy under its lock uses Collect under
// the lock and a WatchReader after it instead of Read.
//
// Thread-safety: none; the store serializes every call. The records that
// Collect hands out may be used from any thread, without the store's lock.
#ifndef ATOMIX_BROKER_STORE_WATCH_HISTORY_H_
#define ATOMIX_BROKER_STORE_WATCH_HISTORY_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "atomix/v1/watch.pb.h"
#include "broker-sim/src/state/watch_filter.h"
#include "broker-sim/src/store/store.h"
#include "broker-sim/src/store/watch_reader.h"

namespace atomix::broker {

struct WatchHistoryOptions {
  size_t max_events = 100000;   // --watch-history
  size_t max_bytes = 64 << 20;  // --watch-history-bytes
};

class WatchHistory {
 public:
  explicit WatchHistory(WatchHistoryOptions options) : options_(options) {}

  // Records the events of `name` at `revision`, which must not be lower
  // than any revision appended before (one step, such as a transaction or
  // a session's end, appends several names at one revision). Nothing if
  // `events` is empty.
  void Append(const std::string& name, int64_t revision,
              std::vector<v1::WatchEvent> events);

  // Appends to out.events the events of `name` that match `filter`, from the
  // first record at or after `cursor` on, in revision order and whole
  // revisions only, until `budget` is reached (at least one revision if any
  // matches). Returns the cursor after what it read, or compacted if
  // events at or after `cursor` were evicted, or if the first revision to
  // deliver exceeds budget.hard_max_bytes (out is then untouched). Collect
  // followed by WatchReader, in one call.
  WatchRead Read(const std::string& name, const WatchFilter& filter,
                 int64_t cursor, const WatchBudget& budget,
                 v1::WatchResponse& out) const;

  struct Collected {
    // Events at or after the cursor were evicted; nothing was collected.
    bool compacted = false;
    // Records of the name follow the last one collected.
    bool more = false;
  };
  // Appends to `records` the records of `name` from the first at or after
  // `cursor` on, in revision order: up to and including the one that takes
  // their total (all events, unfiltered) past budget.max_bytes or
  // budget.max_events, and at most `max_records`. An unfiltered reader
  // finds all it reads in one such chunk (it needs the next one only to
  // learn it is done when the first revision alone exceeds the budget); a
  // filtered one may need several. Costs no more than copying the
  // references.
  Collected Collect(const std::string& name, int64_t cursor,
                    const WatchBudget& budget, size_t max_records,
                    std::vector<WatchRecordRef>& records) const;

  // Every event at or below `revision` counts as evicted, for every name
  // (the store started from a snapshot at that revision).
  void SetFloor(int64_t revision) { floor_ = revision; }

  // The highest revision evicted from `name`, 0 if none.
  int64_t compacted(const std::string& name) const;

  size_t events() const { return events_; }
  size_t bytes() const { return bytes_; }
  size_t records() const { return order_.size(); }
  // Events evicted so far (SetFloor evicts nothing).
  uint64_t evicted_events() const { return evicted_events_; }

 private:
  struct Log {
    std::deque<WatchRecordRef> records;
    int64_t compacted = 0;
  };

  // Evicts the globally oldest record.
  void EvictOldest();

  const WatchHistoryOptions options_;
  // Node-based, so the Log pointers in order_ stay valid.
  std::unordered_map<std::string, Log> logs_;
  std::deque<Log*> order_;  // one entry per record, oldest first
  size_t events_ = 0;
  size_t bytes_ = 0;
  uint64_t evicted_events_ = 0;
  int64_t floor_ = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STORE_WATCH_HISTORY_H_
