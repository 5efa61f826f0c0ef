// One write-ahead log entry's framing on bytes alone (disk/wal_entry.h):
// what encodes reads back, and each kind of bad entry is named, with the
// ones a torn write explains told apart from corruption.
#include <string>

#include "broker-sim/src/disk/wal_entry.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

TEST(WalEntryTest, EncodedEntryReadsBack) {
  const std::string entry = EncodeWalEntry("payload");
  ASSERT_EQ(entry.size(), kWalEntryHeader + 7);
  const std::string bytes = entry + "next";  // the payload is a view into it
  const WalEntry read = ReadWalEntry(bytes, 1024);
  EXPECT_EQ(read.problem, "");
  EXPECT_EQ(read.payload, "payload");
  EXPECT_EQ(read.size, entry.size());
}

TEST(WalEntryTest, CutShortEntriesAreIncomplete) {
  const std::string entry = EncodeWalEntry("payload");
  const WalEntry header = ReadWalEntry(entry.substr(0, 5), 1024);
  EXPECT_EQ(header.problem, "its header is cut short");
  EXPECT_TRUE(header.incomplete);
  const WalEntry payload = ReadWalEntry(entry.substr(0, entry.size() - 1), 1024);
  EXPECT_EQ(payload.problem, "its 7 bytes run past the end of the file");
  EXPECT_TRUE(payload.incomplete);
  const WalEntry zeros = ReadWalEntry(std::string(12, '\0'), 1024);
  EXPECT_EQ(zeros.problem, "its length is 0");
  EXPECT_TRUE(zeros.incomplete);
}

TEST(WalEntryTest, CorruptEntriesAreNamed) {
  std::string entry = EncodeWalEntry("payload");
  entry[kWalEntryHeader] ^= 1;
  const WalEntry flipped = ReadWalEntry(entry, 1024);
  EXPECT_EQ(flipped.problem, "its checksum does not match");
  EXPECT_FALSE(flipped.incomplete);
  const WalEntry big = ReadWalEntry(EncodeWalEntry(std::string(100, 'x')), 64);
  EXPECT_EQ(big.problem, "its length 100 exceeds the limit of 64");
  EXPECT_FALSE(big.incomplete);
}

}  // namespace
}  // namespace atomix::broker
