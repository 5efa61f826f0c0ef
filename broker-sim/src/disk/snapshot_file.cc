// Snapshot file encoding.
#include "broker-sim/src/disk/snapshot_file.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker-sim/src/disk/crc32c.h"
#include "broker-sim/src/disk/files.h"

namespace atomix::broker {
namespace {

constexpr char kMagic[] = "ATXSNAP1";
constexpr size_t kHeader = 8 + 8 + 4;

}  // namespace

std::string EncodeSnapshot(const atomix::log::v1::EngineSnapshot& snapshot) {
  const std::string payload = snapshot.SerializeAsString();
  std::string out(kHeader, '\0');
  std::memcpy(out.data(), kMagic, 8);
  const uint64_t length = payload.size();
  for (int i = 0; i < 8; ++i) out[8 + i] = static_cast<char>((length >> (8 * i)) & 0xFF);
  const uint32_t crc = Crc32c(payload);
  for (int i = 0; i < 4; ++i) out[16 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  out += payload;
  return out;
}

absl::StatusOr<atomix::log::v1::EngineSnapshot> DecodeSnapshot(const std::string& path,
                                                               const std::string& bytes) {
  auto bad = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(path, ": ", why));
  };
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    return bad("is not a snapshot file");
  }
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= uint64_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
  uint32_t crc = 0;
  for (int i = 0; i < 4; ++i) crc |= uint32_t{static_cast<unsigned char>(bytes[16 + i])} << (8 * i);
  if (bytes.size() - kHeader != length) {
    return bad(absl::StrCat("is cut short: ", bytes.size() - kHeader, " of ", length,
                            " bytes"));
  }
  const absl::string_view payload = absl::string_view(bytes).substr(kHeader);
  if (Crc32c(payload) != crc) return bad("its checksum does not match");
  atomix::log::v1::EngineSnapshot snapshot;
  if (!snapshot.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return bad("does not parse");
  }
  return snapshot;
}

absl::StatusOr<atomix::log::v1::EngineSnapshot> ReadSnapshotFile(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return DecodeSnapshot(path, *bytes);
}

std::string SnapshotPath(const std::string& dir, uint64_t position) {
  return absl::StrCat(dir, "/", absl::StrFormat("%020u.snap", position));
}

std::vector<uint64_t> ListSnapshots(const std::string& dir) {
  return ListNumberedFiles(dir, ".snap").value_or(std::vector<uint64_t>());
}

}  // namespace atomix::broker
