// Restore: a data dir from a snapshot file.
#include "broker-sim/src/disk/restore.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/disk/files.h"
#include "broker-sim/src/disk/meta.h"
#include "broker-sim/src/disk/snapshot_file.h"

namespace atomix::broker {

absl::StatusOr<std::string> RestoreDataDir(const std::string& file, const std::string& dir) {
  absl::StatusOr<std::string> bytes = ReadFile(file);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<atomix::log::v1::EngineSnapshot> snapshot = DecodeSnapshot(file, *bytes);
  if (!snapshot.ok()) return snapshot.status();
  std::error_code error;
  if (std::filesystem::exists(dir, error) && !std::filesystem::is_empty(dir, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("data dir ", dir, " is not empty; restore into a new directory"));
  }
  for (const std::string& d : {dir, absl::StrCat(dir, "/snap"), absl::StrCat(dir, "/wal")}) {
    if (absl::Status made = MakeDirectory(d); !made.ok()) return made;
  }
  absl::Status written = WriteMeta(dir, Meta{NewBrokerId(), snapshot->session_id_base(),
                                               snapshot->session_key()});
  if (!written.ok()) return written;
  written = WriteFileAtomically(SnapshotPath(absl::StrCat(dir, "/snap"), snapshot->log_position()),
                                *bytes);
  if (!written.ok()) return written;
  return absl::StrCat("restored ", snapshot->primitives_size(), " primitives and ",
                      snapshot->sessions_size(), " sessions at revision ", snapshot->revision(),
                      " into ", dir);
}

}  // namespace atomix::broker
