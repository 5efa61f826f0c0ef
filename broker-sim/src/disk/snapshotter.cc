// Snapshots by fork(): the child writes, the parent goes on.
#include "broker-sim/src/disk/snapshotter.h"

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/disk/files.h"
#include "broker-sim/src/disk/snapshot_file.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {

DiskSnapshotter::DiskSnapshotter(std::string dir, Wal* wal, SnapshotOptions options,
                                 uint64_t last_position)
    : dir_(std::move(dir)), wal_(wal), options_(options) {
  last_position_ = last_position;
  last_bytes_ = wal_->appended_bytes();
  reaper_ = std::thread([this] { ReapLoop(); });
}

DiskSnapshotter::~DiskSnapshotter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  reaper_.join();
}

uint64_t DiskSnapshotter::written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return written_;
}

void DiskSnapshotter::AfterStep(const Engine& engine, uint64_t next_position) {
  std::lock_guard<std::mutex> lock(mu_);
  if (child_ > 0 || stop_) return;
  const bool records_due = next_position - last_position_ >= options_.every_records;
  const bool bytes_due = wal_->appended_bytes() - last_bytes_ >= options_.every_bytes;
  if (!records_due && !bytes_due) return;
  const pid_t pid = fork();
  if (pid < 0) {
    spdlog::warn("cannot fork to write a snapshot: {}; trying again later", std::strerror(errno));
    last_bytes_ = wal_->appended_bytes();  // Not again at once.
    return;
  }
  if (pid == 0) _exit(WriteInChild(engine, next_position));
  child_ = pid;
  child_position_ = next_position;
  last_bytes_ = wal_->appended_bytes();
  cv_.notify_all();
}

int DiskSnapshotter::WriteInChild(const Engine& engine, uint64_t next_position) const {
  // Only this thread exists here, with a copy of the engine as of the step
  // just applied. Touch nothing another thread might have held: no
  // logging, no locks.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  atomix::log::v1::EngineSnapshot snapshot;
  engine.Save(snapshot);
  snapshot.set_log_position(next_position);
  const absl::Status written =
      WriteFileAtomically(SnapshotPath(dir_, next_position), EncodeSnapshot(snapshot));
  if (!written.ok()) {
    const std::string message = absl::StrCat(written.message(), "\n");
    (void)!write(2, message.data(), message.size());
    return 1;
  }
  return 0;
}

void DiskSnapshotter::ReapLoop() {
  pthread_setname_np(pthread_self(), "atomix-snapshot");
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || child_ > 0; });
    if (child_ <= 0) return;  // stopped, nothing running
    const pid_t child = child_;
    const uint64_t position = child_position_;
    lock.unlock();
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok) {
      // The snapshot is durable: what it covers can go.
      if (absl::Status released = wal_->ReleaseBefore(position); !released.ok()) {
        spdlog::warn("{}", std::string(released.message()));
      }
      for (uint64_t older : ListSnapshots(dir_)) {
        if (older < position) unlink(SnapshotPath(dir_, older).c_str());
      }
      spdlog::info("snapshot {} written", SnapshotPath(dir_, position));
    } else {
      spdlog::warn("writing snapshot {} failed (status {}); the log is kept",
                   SnapshotPath(dir_, position), status);
      unlink(absl::StrCat(SnapshotPath(dir_, position), ".tmp").c_str());
    }
    lock.lock();
    child_ = -1;
    if (ok) {
      last_position_ = position;
      ++written_;
    }
  }
}

}  // namespace atomix::broker
