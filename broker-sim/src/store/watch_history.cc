// Bounded watch history.
#include "broker-sim/src/store/watch_history.h"

#include <algorithm>

namespace atomix::broker {
namespace {

// Records scanned per Read at most, so that a filtered reader far behind
// never holds the store for long; it resumes where the scan stopped.
constexpr size_t kMaxScan = 10000;

}  // namespace

void WatchHistory::Append(const std::string& name, int64_t revision,
                          std::vector<v1::WatchEvent> events) {
  if (events.empty()) return;
  Record record;
  record.revision = revision;
  for (const v1::WatchEvent& event : events) {
    record.bytes += event.ByteSizeLong();
  }
  record.events = std::move(events);
  events_ += record.events.size();
  bytes_ += record.bytes;
  Log& log = logs_[name];
  log.records.push_back(std::move(record));
  order_.push_back(&log);
  while ((events_ > options_.max_events || bytes_ > options_.max_bytes) &&
         order_.size() > 1) {
    EvictOldest();
  }
}

void WatchHistory::EvictOldest() {
  Log& log = *order_.front();
  order_.pop_front();
  // Revisions rise globally, so the globally oldest record is the oldest of
  // its name.
  Record& record = log.records.front();
  log.compacted = record.revision;
  events_ -= record.events.size();
  bytes_ -= record.bytes;
  log.records.pop_front();
}

int64_t WatchHistory::compacted(const std::string& name) const {
  auto it = logs_.find(name);
  return it == logs_.end() ? 0 : it->second.compacted;
}

WatchRead WatchHistory::Read(const std::string& name, const WatchFilter& filter,
                             int64_t cursor, const WatchBudget& budget,
                             v1::WatchResponse& out) const {
  WatchRead read;
  read.next = cursor;
  auto found = logs_.find(name);
  if (found == logs_.end()) return read;
  const Log& log = found->second;
  if (cursor <= log.compacted) {
    read.compacted = true;
    return read;
  }
  auto it = std::lower_bound(
      log.records.begin(), log.records.end(), cursor,
      [](const Record& r, int64_t c) { return r.revision < c; });
  size_t bytes = 0;
  size_t count = 0;
  for (size_t scanned = 0; it != log.records.end() && scanned < kMaxScan;
       ++it, ++scanned) {
    size_t record_bytes = 0;
    size_t matching = 0;
    for (const v1::WatchEvent& event : it->events) {
      if (!filter.Matches(event)) continue;
      record_bytes += event.ByteSizeLong();
      ++matching;
    }
    if (matching > 0) {
      if (count > 0 && (bytes + record_bytes > budget.max_bytes ||
                        count + matching > budget.max_events)) {
        break;
      }
      if (budget.hard_max_bytes > 0 && record_bytes > budget.hard_max_bytes) {
        if (count > 0) break;
        read.compacted = true;
        return read;
      }
      for (const v1::WatchEvent& event : it->events) {
        if (filter.Matches(event)) *out.add_events() = event;
      }
      bytes += record_bytes;
      count += matching;
    }
    read.next = it->revision + 1;
  }
  return read;
}

}  // namespace atomix::broker
