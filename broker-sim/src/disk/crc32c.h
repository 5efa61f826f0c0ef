// CRC-32C (Castagnoli), the checksum of write-ahead log entries.
//
//   uint32_t crc = Crc32c(bytes);
//
// Thread-safety: a pure function.
#ifndef ATOMIX_BROKER_DISK_CRC32C_H_
#define ATOMIX_BROKER_DISK_CRC32C_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace atomix::broker {

uint32_t Crc32c(absl::string_view bytes);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_DISK_CRC32C_H_
