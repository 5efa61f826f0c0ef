// DiskSnapshotter: writes the disk store's snapshots without stopping it.
//
// Once `every_records` records or `every_bytes` bytes were logged since the
// last snapshot, AfterStep (called under the store's mutex) fork()s. The
// child has a copy-on-write image of the engine exactly as of the record
// just applied: it serializes it, writes DIR/<next position>.snap
// atomically (temporary file, fsync, rename, fsync of the directory) and
// exits; the broker goes on at once, paying only for the fork. A reaper
// thread waits for the child; when it succeeded, the log segments and older
// snapshots that the new snapshot covers are deleted. One snapshot is
// written at a time; a child dies with its parent (PR_SET_PDEATHSIG).
//
// Thread-safety: AfterStep is called under the store's mutex; the reaper
// runs on its own thread; the destructor waits for a running child.
#ifndef ATOMIX_BROKER_DISK_SNAPSHOTTER_H_
#define ATOMIX_BROKER_DISK_SNAPSHOTTER_H_

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "broker-sim/src/disk/wal.h"
#include "broker-sim/src/store/engine_store.h"

namespace atomix::broker {

struct SnapshotOptions {
  uint64_t every_records = 100000;  // --snapshot-records
  uint64_t every_bytes = 64 << 20;  // --snapshot-bytes
};

class DiskSnapshotter final : public EngineStore::Snapshotter {
 public:
  // `wal` must outlive the snapshotter. `last_position` is the position
  // of the snapshot the store started from (0 if none).
  DiskSnapshotter(std::string dir, Wal* wal, SnapshotOptions options,
                  uint64_t last_position);
  ~DiskSnapshotter() override;

  void AfterStep(const Engine& engine, uint64_t next_position) override;

  // Snapshots written so far.
  uint64_t written() const;

 private:
  void ReapLoop();
  // In the child: writes the snapshot and returns the exit code.
  int WriteInChild(const Engine& engine, uint64_t next_position) const;

  const std::string dir_;
  Wal* const wal_;
  const SnapshotOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  pid_t child_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t child_position_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_position_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread reaper_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_DISK_SNAPSHOTTER_H_
