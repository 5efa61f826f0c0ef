// WatchRecord: the watch events of one revision for one name, immutable once
// made and shared between the history and its readers.
//
// WatchReader: the copying half of a watch read. A store collects references
// to a name's records under its lock (cheap: a bounded number of pointer
// copies) and hands them to a WatchReader after releasing it; the reader
// filters them and copies the matching events into the response within the
// budget. A read may be collected in several chunks: the reader says where
// the next chunk starts (next()) and whether it needs one (Consume's result).
//
//   WatchReader reader(filter, cursor, budget, out);
//   std::vector<WatchRecordRef> records;
//   do {
//     records.clear();
//     ... under the store's lock: collect from reader.next(), at most
//     ... reader.scan_left() records; if compacted: return reader.Compacted();
//   } while (reader.Consume(records) && more_records_remain);
//   return reader.result();
//
// Thread-safety: WatchRecord is immutable and may be read from any thread.
// A WatchReader is used by one thread at a time and takes no lock.
#ifndef ATOMIX_BROKER_STORE_WATCH_READER_H_
#define ATOMIX_BROKER_STORE_WATCH_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "atomix/v1/watch.pb.h"
#include "broker-sim/src/state/watch_filter.h"
#include "broker-sim/src/store/store.h"

namespace atomix::broker {

struct WatchRecord {
  int64_t revision = 0;
  size_t bytes = 0;  // the serialized size of all the events
  std::vector<v1::WatchEvent> events;
};

using WatchRecordRef = std::shared_ptr<const WatchRecord>;

class WatchReader {
 public:
  // Records scanned per read at most, so that a filtered reader far behind
  // never holds its thread (or the store) for long; it resumes where the
  // scan stopped.
  static constexpr size_t kMaxScan = 10000;

  // Reads the events matching `filter` (copied) from `cursor` on into `out`,
  // which must outlive the reader.
  WatchReader(const WatchFilter& filter, int64_t cursor,
              const WatchBudget& budget, v1::WatchResponse& out);

  // Reads `records`, which must be the history's records of the name in
  // revision order from the first at or after next() on: appends the
  // matching events of each whole revision to out.events until `budget`
  // is reached (at least one revision if any matches). Returns false once
  // the read is complete: the budget is reached, the first revision to
  // deliver exceeds budget.hard_max_bytes (compacted; out untouched), or
  // kMaxScan records were scanned. Returns true if it wants the records
  // that follow, if there are any.
  bool Consume(absl::Span<const WatchRecordRef> records);

  // Where the records to Consume next start (the cursor after what was
  // read so far).
  int64_t next() const { return read_.next; }
  // How many more records the read may scan.
  size_t scan_left() const { return kMaxScan - scanned_; }

  // The result once the history no longer holds the records at next():
  // compacted if nothing was read yet, else what was read (the following
  // read finds the compaction).
  WatchRead Compacted();
  // The result of the read.
  WatchRead result() const { return read_; }

 private:
  const WatchFilter filter_;
  const WatchBudget budget_;
  v1::WatchResponse& out_;
  WatchRead read_;
  size_t scanned_ = 0;
  size_t bytes_ = 0;
  size_t count_ = 0;
  bool done_ = false;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STORE_WATCH_READER_H_
