// The data dir's meta file keeps the session key: a new dir gets a random
// 16-byte key, it reads back the same, a dir from before keys loads with
// none (the old session ids), and a damaged key line is refused. No network.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "broker-sim/src/disk/meta.h"
#include "broker-sim/src/engine/session_ids.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

std::string NewDir() {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("atomix-meta-key-" + std::to_string(getpid()) + "-" +
                     std::to_string(rand()));
  std::filesystem::create_directories(dir);
  return dir;
}

void Write(const std::string& dir, const std::string& text) {
  std::ofstream(dir + "/meta") << text;
}

TEST(MetaKey, ANewDirGetsARandomKeyThatReadsBack) {
  const std::string a = NewDir(), b = NewDir();
  absl::StatusOr<Meta> first = ReadOrCreateMeta(a);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->session_key.size(), kSessionKeyBytes);
  absl::StatusOr<Meta> again = ReadOrCreateMeta(a);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->session_key, first->session_key);
  absl::StatusOr<Meta> other = ReadOrCreateMeta(b);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->session_key, first->session_key);
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
}

TEST(MetaKey, ADirFromBeforeKeysLoadsWithoutOne) {
  const std::string dir = NewDir();
  Write(dir, "broker_id abc\nsession_id_base 123456789\n");
  absl::StatusOr<Meta> meta = ReadOrCreateMeta(dir);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->session_id_base, 123456789u);
  EXPECT_TRUE(meta->session_key.empty());
  std::filesystem::remove_all(dir);
}

TEST(MetaKey, ADamagedKeyIsRefused) {
  const std::string dir = NewDir();
  Write(dir, "broker_id abc\nsession_id_base 1\nsession_key 00ff\n");
  absl::StatusOr<Meta> meta = ReadOrCreateMeta(dir);
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(meta.status().message().find("session_key must be 32 hex digits"),
            std::string::npos)
      << meta.status();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace atomix::broker
