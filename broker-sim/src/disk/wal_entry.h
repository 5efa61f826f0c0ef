// The framing of one write-ahead log entry (wal.h): a 4-byte little-endian
// payload length, the payload's 4-byte CRC-32C, then the payload. Apart
// from the Wal so that the decoder can be tested and fuzzed on bytes alone.
//
//   std::string entry = EncodeWalEntry(payload);
//   WalEntry read = ReadWalEntry(entry, max_entry_bytes);  // read.payload
//
// Thread-safety: pure functions.
#ifndef ATOMIX_BROKER_DISK_WAL_ENTRY_H_
#define ATOMIX_BROKER_DISK_WAL_ENTRY_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace atomix::broker {

inline constexpr size_t kWalEntryHeader = 8;

// What the bytes at an entry's offset hold.
struct WalEntry {
  // Why they are not a valid entry ("its header is cut short", "its length
  // is 0", "its length N exceeds the limit of M", "its N bytes run past the
  // end of the file", "its checksum does not match"); empty if they are.
  std::string problem;
  // A bad entry that a torn write explains, if it is the end of the last
  // segment: a header cut short, a length running past the end, or
  // nothing but zeros from here on.
  bool incomplete = false;
  // A valid entry's payload (a view into the bytes) and its whole size,
  // header included.
  absl::string_view payload;
  size_t size = 0;
};

// Reads the entry at the start of `rest` (a segment's bytes from the
// entry's offset to the end of the file). Entries longer than
// `max_entry_bytes` are bad.
WalEntry ReadWalEntry(absl::string_view rest, uint32_t max_entry_bytes);

// The bytes of an entry holding `payload` (not empty, under 4 GiB).
std::string EncodeWalEntry(absl::string_view payload);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_DISK_WAL_ENTRY_H_
