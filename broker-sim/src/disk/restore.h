// Restoring a backup (Admin.Backup, a snapshot file) into a new data dir.
//
//   atomix-broker --restore backup.snap --data-dir /var/lib/atomix-new
//
// The new data dir holds the snapshot and an empty log after it, and gets a
// new broker id (it is another broker incarnation: watchers resyncing
// against it get a NEW_BROKER snapshot rather than resuming). Sessions,
// locks and revisions are as the backup had them.
//
// Thread-safety: a plain function, called before serving.
#ifndef ATOMIX_BROKER_DISK_RESTORE_H_
#define ATOMIX_BROKER_DISK_RESTORE_H_

#include <string>

#include "absl/status/statusor.h"

namespace atomix::broker {

// Creates `dir` from the snapshot file `file`. Refuses a `dir` that exists
// and is not empty (FAILED_PRECONDITION), and a file that is not a valid
// snapshot (DATA_LOSS naming it). Returns a line describing what it did.
absl::StatusOr<std::string> RestoreDataDir(const std::string& file, const std::string& dir);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_DISK_RESTORE_H_
