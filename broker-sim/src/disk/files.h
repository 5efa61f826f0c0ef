// Small file-system helpers for the disk store, each returning a status
// that names the path and the system's reason, e.g.
//   cannot create /data/wal: Permission denied
//   cannot write to /data/wal/00000000000000000000.wal: No space left on device
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_BROKER_DISK_FILES_H_
#define ATOMIX_BROKER_DISK_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace atomix::broker {

// "`what`: <strerror>", with the code that fits errno: RESOURCE_EXHAUSTED
// for a full disk, quota or file size limit, PERMISSION_DENIED, NOT_FOUND, else INTERNAL.
absl::Status ErrnoStatus(int error, absl::string_view what);

// Creates `dir` (mode 0700) if it does not exist; fails if it exists and is
// not a directory.
absl::Status MakeDirectory(const std::string& dir);

absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `path` so that a reader (or a crash) sees the old file or the new
// one whole: a temporary file, fsync, rename, fsync of the directory.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view data);

absl::Status TruncateFile(const std::string& path, uint64_t size);

// fsync of a directory, so that entries created or renamed in it persist.
absl::Status SyncDirectory(const std::string& dir);

// The numbers N of the files "N<suffix>" in `dir` whose N is 20 decimal
// digits (log segments, snapshots), ascending.
absl::StatusOr<std::vector<uint64_t>> ListNumberedFiles(const std::string& dir,
                                                        absl::string_view suffix);

// An exclusive lock on `path` (created if needed) for the life of the
// returned descriptor; FAILED_PRECONDITION naming the holder's pid if
// another process holds it.
absl::StatusOr<int> LockFile(const std::string& path);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_DISK_FILES_H_
