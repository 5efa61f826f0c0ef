// Write-ahead log: segments, checksummed entries, replay and group commit.
#include "broker-sim/src/disk/wal.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker-sim/src/disk/files.h"
#include "broker-sim/src/disk/wal_entry.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

std::string SegmentName(uint64_t first) { return absl::StrFormat("%020u.wal", first); }

}  // namespace

absl::StatusOr<SyncMode> ParseSyncMode(std::string_view text) {
  if (text == "always") return SyncMode::kAlways;
  if (text == "batch") return SyncMode::kBatch;
  if (text == "none") return SyncMode::kNone;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown sync mode \"", std::string(text), "\"; use always, batch or none"));
}

Wal::Wal(std::string dir, WalOptions options) : dir_(std::move(dir)), options_(options) {}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(const std::string& dir, WalOptions options,
                                               uint64_t start, const Replay& replay) {
  if (absl::Status made = MakeDirectory(dir); !made.ok()) return made;
  std::unique_ptr<Wal> wal(new Wal(dir, options));
  absl::StatusOr<std::vector<uint64_t>> segments = ListNumberedFiles(dir, ".wal");
  if (!segments.ok()) return segments.status();
  // Segments wholly before `start` are left over from before a snapshot:
  // not replayed, and deleted by the next ReleaseBefore.
  wal->segments_ = *segments;
  while (segments->size() > 1 && (*segments)[1] <= start) segments->erase(segments->begin());
  uint64_t position = segments->empty() ? start : segments->front();
  if (position > start) {
    return absl::DataLossError(absl::StrCat(dir, ": the log starts at record ", position,
                                            " but records from ", start,
                                            " on are needed (a segment is missing)"));
  }
  for (size_t s = 0; s < segments->size(); ++s) {
    const bool last = s + 1 == segments->size();
    const std::string path = absl::StrCat(dir, "/", SegmentName((*segments)[s]));
    if ((*segments)[s] != position) {
      return absl::DataLossError(absl::StrCat(path, ": starts at record ", (*segments)[s],
                                              " but the segment before it ends at record ",
                                              position));
    }
    absl::StatusOr<std::string> bytes = ReadFile(path);
    if (!bytes.ok()) return bytes.status();
    size_t offset = 0;
    while (offset < bytes->size()) {
      const absl::string_view rest = absl::string_view(*bytes).substr(offset);
      const WalEntry entry = ReadWalEntry(rest, options.max_entry_bytes);
      if (!entry.problem.empty()) {
        const std::string& problem = entry.problem;
        const bool torn = last && entry.incomplete;
        if (!torn) {
          return absl::DataLossError(absl::StrCat("corrupt record ", position, " in ", path,
                                                  " at offset ", offset, ": ", problem));
        }
        spdlog::warn("{}: dropping a torn write at offset {} ({} bytes, {}); it was never "
                     "acknowledged",
                     path, offset, rest.size(), problem);
        if (absl::Status cut = TruncateFile(path, offset); !cut.ok()) return cut;
        bytes->resize(offset);
        break;
      }
      if (position >= start) {
        if (absl::Status applied = replay(entry.payload); !applied.ok()) {
          return absl::DataLossError(absl::StrCat("record ", position, " in ", path,
                                                  " at offset ", offset, ": ",
                                                  applied.message()));
        }
      }
      offset += entry.size;
      ++position;
    }
    if (last) {
      std::lock_guard<std::mutex> lock(wal->mu_);
      wal->fd_ = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      if (wal->fd_ < 0) return ErrnoStatus(errno, absl::StrCat("cannot open ", path));
      wal->path_ = path;
      wal->segment_size_ = bytes->size();
    }
  }
  {
    std::lock_guard<std::mutex> lock(wal->mu_);
    if (position < start) {
      // The snapshot was written before the records it covers were synced,
      // and a crash lost them: the snapshot has them; go on after it.
      if (wal->fd_ >= 0) close(wal->fd_);
      wal->fd_ = -1;
      position = start;
    }
    wal->replayed_ = position - start;
    wal->next_ = position;
    wal->synced_ = position;
    if (wal->fd_ < 0) {
      if (absl::Status opened = wal->OpenSegment(position); !opened.ok()) return opened;
    }
  }
  wal->sync_thread_ = std::thread([w = wal.get()] { w->SyncLoop(); });
  return wal;
}

Wal::~Wal() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  appended_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  std::vector<std::function<void()>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left = TakeDueLocked();
  }
  for (auto& fn : left) fn();  // as WaitDurable returns when stopping
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0) {
    if (options_.sync != SyncMode::kNone) fdatasync(fd_);
    close(fd_);
  }
  spdlog::info("log {}: {} records ({} bytes) appended and {} fdatasyncs since it opened",
               dir_, next_ - replayed_, appended_bytes_, syncs_);
}

absl::Status Wal::OpenSegment(uint64_t first) {
  const std::string path = absl::StrCat(dir_, "/", SegmentName(first));
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot create ", path));
  if (absl::Status synced = SyncDirectory(dir_); !synced.ok()) {
    close(fd);
    return synced;
  }
  fd_ = fd;
  path_ = path;
  segment_size_ = 0;
  if (segments_.empty() || segments_.back() != first) segments_.push_back(first);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Wal::Append(const atomix::log::v1::InputRecord& record) {
  return AppendPayload(record.SerializeAsString());
}

absl::StatusOr<uint64_t> Wal::AppendPayload(absl::string_view payload) {
  if (payload.empty()) return absl::InvalidArgumentError("an empty record cannot be logged");
  if (payload.size() > options_.max_entry_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("a record of ", payload.size(),
                                                   " bytes exceeds the log's limit of ",
                                                   options_.max_entry_bytes));
  }
  const std::string entry = EncodeWalEntry(payload);

  std::unique_lock<std::mutex> lock(mu_);
  if (segment_size_ > 0 && segment_size_ + entry.size() > options_.segment_bytes) {
    // Close this segment durably, then start the next one.
    synced_cv_.wait(lock, [&] { return !syncing_; });
    if (TimedSync(fd_) != 0) {
      return ErrnoStatus(errno, absl::StrCat("cannot sync ", path_));
    }
    ++syncs_;
    synced_ = next_;
    close(fd_);
    fd_ = -1;
    if (absl::Status opened = OpenSegment(next_); !opened.ok()) return opened;
    synced_cv_.notify_all();
    appended_cv_.notify_all();  // callbacks of the closed segment are due
  }
  size_t written = 0;
  while (written < entry.size()) {
    const ssize_t n = write(fd_, entry.data() + written, entry.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      // Leave no partial entry behind.
      if (ftruncate(fd_, static_cast<off_t>(segment_size_)) != 0) {
        spdlog::error("{}: cannot cut off a failed append: {}", path_, std::strerror(errno));
      }
      return ErrnoStatus(error, absl::StrCat("cannot write to ", path_));
    }
    written += static_cast<size_t>(n);
  }
  segment_size_ += entry.size();
  appended_bytes_ += entry.size();
  const uint64_t position = next_++;
  if (options_.sync != SyncMode::kNone) appended_cv_.notify_one();
  return position;
}

void Wal::WhenDurable(uint64_t position, std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (options_.sync == SyncMode::kAlways && synced_ <= position && !stop_) {
      when_durable_.emplace_back(position, std::move(fn));
      return;
    }
  }
  fn();
}

std::vector<std::function<void()>> Wal::TakeDueLocked() {
  std::vector<std::function<void()>> due;
  size_t kept = 0;
  for (auto& [position, fn] : when_durable_) {
    if (position < synced_ || stop_) {
      due.push_back(std::move(fn));
    } else {
      when_durable_[kept++] = {position, std::move(fn)};
    }
  }
  when_durable_.resize(kept);
  return due;
}

void Wal::WaitDurable(uint64_t position) {
  if (options_.sync != SyncMode::kAlways) return;
  std::unique_lock<std::mutex> lock(mu_);
  synced_cv_.wait(lock, [&] { return synced_ > position || stop_; });
}

absl::Status Wal::ReleaseBefore(uint64_t position) {
  std::vector<uint64_t> doomed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (segments_.size() > 1 && segments_[1] <= position) {
      doomed.push_back(segments_.front());
      segments_.erase(segments_.begin());
    }
  }
  for (uint64_t first : doomed) {
    const std::string path = absl::StrCat(dir_, "/", SegmentName(first));
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, absl::StrCat("cannot delete ", path));
    }
  }
  return doomed.empty() ? absl::OkStatus() : SyncDirectory(dir_);
}

uint64_t Wal::next() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_;
}

uint64_t Wal::appended_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return appended_bytes_;
}

uint64_t Wal::synced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

uint64_t Wal::syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}

int Wal::TimedSync(int fd) const {
  if (!options_.on_sync) return fdatasync(fd);
  const auto start = std::chrono::steady_clock::now();
  const int r = fdatasync(fd);
  const int error = errno;
  if (r == 0) options_.on_sync(absl::FromChrono(std::chrono::steady_clock::now() - start));
  errno = error;
  return r;
}

void Wal::SyncLoop() {
  pthread_setname_np(pthread_self(), "atomix-wal-sync");
  if (options_.sync == SyncMode::kNone) return;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    appended_cv_.wait(lock, [&] {
      return stop_ || synced_ < next_ ||
             (!when_durable_.empty() && when_durable_.front().first < synced_);
    });
    if (stop_) break;
    if (synced_ >= next_) {
      // Only callbacks made due by a segment roll (which synced).
      std::vector<std::function<void()>> due = TakeDueLocked();
      lock.unlock();
      for (auto& fn : due) fn();
      lock.lock();
      continue;
    }
    const uint64_t target = next_;
    const int fd = fd_;
    syncing_ = true;
    lock.unlock();
    // Everything appended up to `target` is in this segment or in closed,
    // already synced ones: one fdatasync covers every waiter (group commit).
    const int r = TimedSync(fd);
    const int error = errno;
    lock.lock();
    syncing_ = false;
    if (r != 0) {
      // Acknowledged state can no longer be made durable: stop rather than
      // answer as if it were.
      spdlog::critical("{}: fdatasync failed: {}; stopping", path_, std::strerror(error));
      std::abort();
    }
    ++syncs_;
    synced_ = std::max(synced_, target);
    synced_cv_.notify_all();
    if (!when_durable_.empty()) {
      std::vector<std::function<void()>> due = TakeDueLocked();
      lock.unlock();
      for (auto& fn : due) fn();
      lock.lock();
    }
    if (options_.sync == SyncMode::kBatch) {
      lock.unlock();
      std::this_thread::sleep_for(absl::ToChronoMilliseconds(options_.batch_interval));
      lock.lock();
    }
  }
}

}  // namespace atomix::broker
