// The disk store: the engine with a write-ahead log in a data directory.
//
//   DATA_DIR/LOCK   held (flock) by the broker serving the directory
//   DATA_DIR/meta   broker id and session id base, written once
//   DATA_DIR/wal/   the write-ahead log (disk/wal.h)
//   DATA_DIR/snap/  snapshots (disk/snapshot_file.h, disk/snapshotter.h)
//
// Opening takes the lock, reads (or creates) the meta file, loads the
// newest snapshot (an unreadable one is an error naming it: the log it
// covers is gone), replays the log records after it then logs a Resume step that restarts every
// session's TTL, so clients that reconnect within it keep their sessions,
// locks, candidacies and ephemeral entries, and their exactly-once retries
// are answered as before. The broker id persists, so watchers resume across
// the restart without a gap while their revision is still in the rebuilt
// history. Revisions go on from where they stopped: fences and terms never
// go backwards.
//
// Logical time continues from the last record: the store's clock is
// max(last record time, wall clock at open) plus the monotonic time since
// open, so a wall-clock step while running changes nothing.
//
// Every problem is an error naming the path: a data dir that another broker
// holds, one that cannot be created or written, a corrupt record in the
// middle of the log. A torn write at the end of the log was never
// acknowledged and is cut off with a warning.
//
// Thread-safety: OpenDiskStore is called once, before serving.
#ifndef ATOMIX_BROKER_DISK_DISK_STORE_H_
#define ATOMIX_BROKER_DISK_DISK_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker-sim/src/disk/snapshotter.h"
#include "broker-sim/src/disk/wal.h"
#include "broker-sim/src/state/limits.h"
#include "broker-sim/src/store/engine_store.h"

namespace atomix::broker {

struct DiskStoreOptions {
  std::string dir = "./data";
  WalOptions wal;
  SnapshotOptions snapshots;
  Limits limits;
  WatchHistoryOptions history;
};

struct DiskStore {
  std::unique_ptr<EngineStore> store;
  std::string broker_id;
  uint64_t records_replayed = 0;
  // The position of the snapshot recovery started from (0: none).
  uint64_t snapshot_position = 0;
  absl::Duration recovery_time;
  // Closed (releasing the data dir) when the DiskStore is destroyed.
  int lock_fd = -1;

  DiskStore() = default;
  DiskStore(DiskStore&& other) noexcept;
  DiskStore& operator=(DiskStore&&) = delete;
  ~DiskStore();
};

absl::StatusOr<DiskStore> OpenDiskStore(const DiskStoreOptions& options);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_DISK_DISK_STORE_H_
