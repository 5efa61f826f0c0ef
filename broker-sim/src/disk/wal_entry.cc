// Write-ahead log entry framing.
#include "broker-sim/src/disk/wal_entry.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/disk/crc32c.h"

namespace atomix::broker {
namespace {

void PutU32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

uint32_t GetU32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

bool AllZero(absl::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

}  // namespace

WalEntry ReadWalEntry(absl::string_view rest, uint32_t max_entry_bytes) {
  WalEntry entry;
  uint32_t length = 0;
  if (rest.size() < kWalEntryHeader) {
    entry.problem = "its header is cut short";
  } else {
    length = GetU32(rest.data());
    if (length == 0) {
      entry.problem = "its length is 0";  // Records are never empty.
    } else if (length > max_entry_bytes) {
      entry.problem =
          absl::StrCat("its length ", length, " exceeds the limit of ", max_entry_bytes);
    } else if (rest.size() - kWalEntryHeader < length) {
      entry.problem = absl::StrCat("its ", length, " bytes run past the end of the file");
    } else if (Crc32c(rest.substr(kWalEntryHeader, length)) !=
               GetU32(rest.data() + 4)) {
      entry.problem = "its checksum does not match";
    }
  }
  if (!entry.problem.empty()) {
    entry.incomplete = rest.size() < kWalEntryHeader ||
                       rest.size() - kWalEntryHeader < length || AllZero(rest);
    return entry;
  }
  entry.payload = rest.substr(kWalEntryHeader, length);
  entry.size = kWalEntryHeader + length;
  return entry;
}

std::string EncodeWalEntry(absl::string_view payload) {
  std::string entry(kWalEntryHeader + payload.size(), '\0');
  PutU32(entry.data(), static_cast<uint32_t>(payload.size()));
  PutU32(entry.data() + 4, Crc32c(payload));
  std::memcpy(entry.data() + kWalEntryHeader, payload.data(), payload.size());
  return entry;
}

}  // namespace atomix::broker
