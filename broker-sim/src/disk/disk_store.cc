// Opening the disk store: lock, meta, replay, resume.
#include "broker-sim/src/disk/disk_store.h"

#include <unistd.h>

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/disk/files.h"
#include "broker-sim/src/disk/meta.h"
#include "broker-sim/src/disk/snapshot_file.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

// The disk store's logical time: it continues from `base` at the monotonic
// time `start`.
struct ContinuedClock {
  absl::Time base = absl::UnixEpoch();
  absl::Time start = absl::UnixEpoch();
};

absl::Time Monotonic() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return absl::TimeFromTimespec(ts);
}

}  // namespace

DiskStore::DiskStore(DiskStore&& other) noexcept
    : store(std::move(other.store)),
      broker_id(std::move(other.broker_id)),
      records_replayed(other.records_replayed),
      snapshot_position(other.snapshot_position),
      recovery_time(other.recovery_time),
      lock_fd(std::exchange(other.lock_fd, -1)) {}

DiskStore::~DiskStore() {
  store.reset();  // Syncs and closes the log first.
  if (lock_fd >= 0) close(lock_fd);
}

absl::StatusOr<DiskStore> OpenDiskStore(const DiskStoreOptions& options) {
  const absl::Time began = Monotonic();
  const std::string& dir = options.dir;
  if (absl::Status made = MakeDirectory(dir); !made.ok()) return made;
  if (access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return ErrnoStatus(errno, absl::StrCat("data dir ", dir, " is not readable and writable"));
  }
  DiskStore opened;
  absl::StatusOr<int> lock = LockFile(absl::StrCat(dir, "/LOCK"));
  if (!lock.ok()) return lock.status();
  opened.lock_fd = *lock;
  absl::StatusOr<Meta> meta = ReadOrCreateMeta(dir);
  if (!meta.ok()) return meta.status();
  opened.broker_id = meta->broker_id;

  auto clock = std::make_shared<ContinuedClock>();
  auto store = std::make_unique<EngineStore>(
      options.limits,
      [clock] { return clock->base + (Monotonic() - clock->start); },
      meta->session_id_base, options.history, nullptr, 0, meta->session_key);
  // The newest snapshot, if any: the log before it is gone.
  const std::string snap_dir = absl::StrCat(dir, "/snap");
  if (absl::Status made = MakeDirectory(snap_dir); !made.ok()) return made;
  const std::vector<uint64_t> snapshots = ListSnapshots(snap_dir);
  if (!snapshots.empty()) {
    const std::string path = SnapshotPath(snap_dir, snapshots.back());
    absl::StatusOr<atomix::log::v1::EngineSnapshot> snapshot = ReadSnapshotFile(path);
    if (!snapshot.ok()) return snapshot.status();
    if (snapshot->log_position() != snapshots.back()) {
      return absl::DataLossError(absl::StrCat(path, ": covers the log up to ",
                                              snapshot->log_position(),
                                              ", not what its name says"));
    }
    if (absl::Status loaded = store->LoadSnapshot(*snapshot); !loaded.ok()) {
      return absl::DataLossError(absl::StrCat(path, ": ", loaded.message()));
    }
    opened.snapshot_position = snapshots.back();
  }
  EngineStore* replaying = store.get();
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(
      absl::StrCat(dir, "/wal"), options.wal, opened.snapshot_position,
      [&](absl::string_view payload) {
        atomix::log::v1::InputRecord record;
        if (!record.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
          return absl::DataLossError("the record does not parse");
        }
        replaying->Restore(record);
        return absl::OkStatus();
      });
  if (!wal.ok()) return wal.status();
  opened.records_replayed = (*wal)->replayed();
  clock->base = std::max(store->now(), absl::Now());
  clock->start = Monotonic();
  Wal* log = wal->get();
  store->AttachLog(*std::move(wal),
                   std::make_unique<DiskSnapshotter>(snap_dir, log, options.snapshots,
                                                     opened.snapshot_position));
  if (absl::Status resumed = store->Resume(); !resumed.ok()) return resumed;
  opened.store = std::move(store);
  opened.recovery_time = Monotonic() - began;
  return opened;
}

}  // namespace atomix::broker
