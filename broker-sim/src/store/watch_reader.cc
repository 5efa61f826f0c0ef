// Filtering and copying of collected watch records.
#include "broker-sim/src/store/watch_reader.h"

namespace atomix::broker {

WatchReader::WatchReader(const WatchFilter& filter, int64_t cursor,
                         const WatchBudget& budget, v1::WatchResponse& out)
    : filter_(filter), budget_(budget), out_(out) {
  read_.next = cursor;
}

bool WatchReader::Consume(absl::Span<const WatchRecordRef> records) {
  for (const WatchRecordRef& record : records) {
    if (done_) break;
    if (scanned_ >= kMaxScan) {
      done_ = true;
      break;
    }
    ++scanned_;
    size_t record_bytes = 0;
    size_t matching = 0;
    for (const v1::WatchEvent& event : record->events) {
      if (!filter_.Matches(event)) continue;
      record_bytes += event.ByteSizeLong();
      ++matching;
    }
    if (matching > 0) {
      if (count_ > 0 && (bytes_ + record_bytes > budget_.max_bytes ||
                         count_ + matching > budget_.max_events)) {
        done_ = true;
        break;
      }
      if (budget_.hard_max_bytes > 0 && record_bytes > budget_.hard_max_bytes) {
        if (count_ == 0) read_.compacted = true;
        done_ = true;
        break;
      }
      for (const v1::WatchEvent& event : record->events) {
        if (filter_.Matches(event)) *out_.add_events() = event;
      }
      bytes_ += record_bytes;
      count_ += matching;
    }
    read_.next = record->revision + 1;
  }
  if (scanned_ >= kMaxScan) done_ = true;
  return !done_;
}

WatchRead WatchReader::Compacted() {
  done_ = true;
  if (count_ == 0) read_.compacted = true;
  return read_;
}

}  // namespace atomix::broker
