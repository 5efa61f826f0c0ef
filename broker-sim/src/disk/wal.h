// Wal: the disk store's write-ahead log of input records.
//
// Records live in segment files `DIR/<first position, 20 digits>.wal`. Each
// entry is a 4-byte little-endian payload length, the payload's 4-byte
// CRC-32C, and the payload (a serialized InputRecord). A segment is closed,
// synced and a new one started once it passes `segment_bytes`.
//
// Append writes the entry with write(2) under the caller's lock; a sync
// thread makes everything appended so far durable with one fdatasync, so
// any number of concurrent appenders share each sync (group commit). The
// sync mode decides what WaitDurable waits for:
//   always  every record is on stable storage (fdatasync) before it is
//           answered: survives power loss. The default.
//   batch   answered once written; synced at most `batch_interval` later: a
//           power loss may drop that last interval of acknowledged writes;
//           a process crash loses nothing.
//   none    answered once written, never synced by the broker: survives a
//           process crash (SIGKILL), not a power loss or kernel crash.
//
// Opening replays every record in order. A bad entry at the end of the last
// segment (a header cut short, a length that runs past the end of the file,
// or nothing but zeros after it) is a torn write that was never
// acknowledged: the file is truncated there and a warning names what was
// dropped. A bad entry anywhere else is corruption: Open fails naming the
// file, the offset and the problem, and nothing is changed.
//
// When write(2) fails, the partial entry is cut off again (ftruncate), so a
// failed append leaves no trace: ENOSPC is RESOURCE_EXHAUSTED naming the
// file, and appends succeed again once space is freed.
//
// Thread-safety: Append from one thread at a time; WaitDurable, synced() and
// syncs() from any thread.
#ifndef ATOMIX_BROKER_DISK_WAL_H_
#define ATOMIX_BROKER_DISK_WAL_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "broker-sim/src/store/log.h"

namespace atomix::broker {

enum class SyncMode { kAlways, kBatch, kNone };

// "always" | "batch" | "none".
absl::StatusOr<SyncMode> ParseSyncMode(std::string_view text);

struct WalOptions {
  SyncMode sync = SyncMode::kAlways;
  uint64_t segment_bytes = 64 << 20;
  absl::Duration batch_interval = absl::Milliseconds(10);
  // Entries larger than this are refused on append and read as corrupt.
  uint32_t max_entry_bytes = 256 << 20;
  // Told the duration of every successful fdatasync the log makes (empty:
  // nobody), on the thread that made it, sometimes with the log's mutex
  // held (when a segment is closed); must be quick, thread-safe and must
  // not call into the log (metrics).
  std::function<void(absl::Duration)> on_sync;
};

class Wal final : public Log {
 public:
  // Called with each record's payload, in order, while opening.
  using Replay = std::function<absl::Status(absl::string_view payload)>;

  // Opens (creating if needed) the log in `dir` and replays its records
  // from position `start` on (those before are covered by a snapshot).
  // DATA_LOSS if records from `start` on are missing.
  static absl::StatusOr<std::unique_ptr<Wal>> Open(const std::string& dir,
                                                   WalOptions options,
                                                   uint64_t start,
                                                   const Replay& replay);
  ~Wal() override;

  absl::StatusOr<uint64_t> Append(
      const atomix::log::v1::InputRecord& record) override;
  void WaitDurable(uint64_t position) override;
  // With --sync always, `fn` runs on the sync thread after the fdatasync
  // that covers `position` (or at shutdown); otherwise at once.
  void WhenDurable(uint64_t position, std::function<void()> fn) override;
  std::string_view kind() const override { return "disk"; }

  // Appends an already serialized record (Append's second half).
  absl::StatusOr<uint64_t> AppendPayload(absl::string_view payload);

  // Deletes the segments whose records all come before `position` (a
  // snapshot covers them). The segment being appended to stays.
  absl::Status ReleaseBefore(uint64_t position);

  // Records replayed by Open.
  uint64_t replayed() const { return replayed_; }
  // The position the next append gets.
  uint64_t next() const;
  // Bytes appended since this Wal was opened.
  uint64_t appended_bytes() const;
  // The fdatasync calls made so far.
  uint64_t syncs() const;
  // Records before this position are durable.
  uint64_t synced() const;

 private:
  Wal(std::string dir, WalOptions options);
  absl::Status OpenSegment(uint64_t first) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SyncLoop();
  // fdatasync(fd), timed for options_.on_sync when it is set.
  int TimedSync(int fd) const;

  const std::string dir_;
  const WalOptions options_;
  uint64_t replayed_ = 0;

  mutable std::mutex mu_;
  std::condition_variable appended_cv_;  // Wakes the sync thread.
  std::condition_variable synced_cv_;    // Wakes WaitDurable.
  int fd_ ABSL_GUARDED_BY(mu_) = -1;     // The segment being appended to.
  std::string path_ ABSL_GUARDED_BY(mu_);
  uint64_t segment_size_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 0;    // Position of the next record.
  uint64_t synced_ ABSL_GUARDED_BY(mu_) = 0;  // Records before this are durable.
  uint64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t appended_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // The first positions of the segments on disk, ascending.
  std::vector<uint64_t> segments_ ABSL_GUARDED_BY(mu_);
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // WhenDurable callbacks whose record is not durable yet, by position.
  std::vector<std::pair<uint64_t, std::function<void()>>> when_durable_
      ABSL_GUARDED_BY(mu_);
  // Takes the callbacks whose record is durable (all of them when stopping).
  std::vector<std::function<void()>> TakeDueLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::thread sync_thread_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_DISK_WAL_H_
