// Bounded watch history.
#include "broker-sim/src/store/watch_history.h"

#include <algorithm>

namespace atomix::broker {

void WatchHistory::Append(const std::string& name, int64_t revision,
                          std::vector<v1::WatchEvent> events) {
  if (events.empty()) return;
  auto record = std::make_shared<WatchRecord>();
  record->revision = revision;
  for (const v1::WatchEvent& event : events) {
    record->bytes += event.ByteSizeLong();
  }
  record->events = std::move(events);
  events_ += record->events.size();
  bytes_ += record->bytes;
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
  const WatchRecord& record = *log.records.front();
  log.compacted = record.revision;
  events_ -= record.events.size();
  evicted_events_ += record.events.size();
  bytes_ -= record.bytes;
  // Readers that collected the record keep it alive.
  log.records.pop_front();
}

int64_t WatchHistory::compacted(const std::string& name) const {
  auto it = logs_.find(name);
  return std::max(floor_, it == logs_.end() ? 0 : it->second.compacted);
}

WatchHistory::Collected WatchHistory::Collect(
    const std::string& name, int64_t cursor, const WatchBudget& budget,
    size_t max_records, std::vector<WatchRecordRef>& records) const {
  Collected collected;
  if (cursor <= floor_) {
    collected.compacted = true;
    return collected;
  }
  auto found = logs_.find(name);
  if (found == logs_.end()) return collected;
  const Log& log = found->second;
  if (cursor <= log.compacted) {
    collected.compacted = true;
    return collected;
  }
  auto it = std::lower_bound(
      log.records.begin(), log.records.end(), cursor,
      [](const WatchRecordRef& r, int64_t c) { return r->revision < c; });
  size_t bytes = 0;
  size_t events = 0;
  for (size_t taken = 0; it != log.records.end() && taken < max_records;
       ++it, ++taken) {
    if (bytes > budget.max_bytes || events > budget.max_events) break;
    records.push_back(*it);
    bytes += (*it)->bytes;
    events += (*it)->events.size();
  }
  collected.more = it != log.records.end();
  return collected;
}

WatchRead WatchHistory::Read(const std::string& name, const WatchFilter& filter,
                             int64_t cursor, const WatchBudget& budget,
                             v1::WatchResponse& out) const {
  WatchReader reader(filter, cursor, budget, out);
  std::vector<WatchRecordRef> records;
  while (true) {
    records.clear();
    const Collected collected =
        Collect(name, reader.next(), budget, reader.scan_left(), records);
    if (collected.compacted) return reader.Compacted();
    if (!reader.Consume(records) || !collected.more) return reader.result();
  }
}

}  // namespace atomix::broker
