// Snapshot files of the disk store: DIR/<log position, 20 digits>.snap, each
// an 8-byte magic "ATXSNAP1", the payload's length (8 bytes, little-endian),
// its CRC-32C (4 bytes, little-endian) and the payload, a serialized
// atomix.log.v1.EngineSnapshot covering every log record before the
// position in its name. Backups (Admin.Backup) are the same format.
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_BROKER_DISK_SNAPSHOT_FILE_H_
#define ATOMIX_BROKER_DISK_SNAPSHOT_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/log/v1/snapshot.pb.h"

namespace atomix::broker {

// The bytes of a snapshot file holding `snapshot`.
std::string EncodeSnapshot(const atomix::log::v1::EngineSnapshot& snapshot);

// Parses the bytes of a snapshot file read from `path` (named in errors):
// DATA_LOSS "PATH: is not a snapshot file" / "is cut short" / "its checksum
// does not match" / "does not parse".
absl::StatusOr<atomix::log::v1::EngineSnapshot> DecodeSnapshot(const std::string& path,
                                                               const std::string& bytes);

absl::StatusOr<atomix::log::v1::EngineSnapshot> ReadSnapshotFile(const std::string& path);

// "DIR/<position>.snap".
std::string SnapshotPath(const std::string& dir, uint64_t position);

// The positions of the snapshot files in `dir`, ascending (none if `dir`
// does not exist).
std::vector<uint64_t> ListSnapshots(const std::string& dir);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_DISK_SNAPSHOT_FILE_H_
