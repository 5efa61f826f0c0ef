// The write-ahead log on its own: records come back in order across
// segments; a torn write at the end is cut off wherever it was cut, while
// corruption elsewhere is refused naming file and offset and changes
// nothing; a failed append leaves no trace; and one fdatasync covers many
// appends. Real files in a temporary directory; no network.
#include <sys/resource.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker-sim/src/disk/wal.h"
#include "gtest/gtest.h"

namespace atomix::broker {
namespace {

namespace fs = std::filesystem;

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/atomix-wal-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Opens the log, collecting replayed payloads.
  absl::StatusOr<std::unique_ptr<Wal>> Open(std::vector<std::string>* replayed,
                                            WalOptions options = {}) {
    replayed->clear();
    return Wal::Open(dir_, options, start_, [replayed](absl::string_view payload) {
      replayed->emplace_back(payload);
      return absl::OkStatus();
    });
  }
  std::vector<fs::path> Segments() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::string Payload(int i) { return absl::StrCat("record-", i, std::string(i % 7, 'x')); }

  std::string dir_;
  uint64_t start_ = 0;
};

TEST_F(WalTest, RecordsComeBackInOrderAcrossSegments) {
  std::vector<std::string> replayed;
  WalOptions small;
  small.segment_bytes = 200;
  {
    auto wal = Open(&replayed, small);
    ASSERT_TRUE(wal.ok()) << wal.status();
    for (int i = 0; i < 50; ++i) {
      auto position = (*wal)->AppendPayload(Payload(i));
      ASSERT_TRUE(position.ok());
      EXPECT_EQ(*position, static_cast<uint64_t>(i));
    }
    (*wal)->WaitDurable(49);
  }
  EXPECT_GT(Segments().size(), 5u);
  auto wal = Open(&replayed, small);
  ASSERT_TRUE(wal.ok()) << wal.status();
  ASSERT_EQ(replayed.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(replayed[i], Payload(i));
  EXPECT_EQ((*wal)->replayed(), 50u);
  EXPECT_EQ(*(*wal)->AppendPayload("next"), 50u);
}

TEST_F(WalTest, WhenDurableCallsBackOncePerRecordAfterItsSync) {
  std::vector<std::string> replayed;
  WalOptions small;
  small.segment_bytes = 200;  // segment rolls sync too
  auto wal = Open(&replayed, small);
  ASSERT_TRUE(wal.ok()) << wal.status();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<uint64_t> called;
  for (int i = 0; i < 40; ++i) {
    auto position = (*wal)->AppendPayload(Payload(i));
    ASSERT_TRUE(position.ok());
    (*wal)->WhenDurable(*position, [&, p = *position] {
      // Called only once the record is durable.
      EXPECT_GT((*wal)->synced(), p);
      std::lock_guard<std::mutex> lock(mu);
      called.push_back(p);
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return called.size() == 40; }));
  std::sort(called.begin(), called.end());
  for (uint64_t i = 0; i < 40; ++i) EXPECT_EQ(called[i], i);
}

TEST_F(WalTest, WhenDurableWithoutSyncCallsBackAtOnce) {
  std::vector<std::string> replayed;
  WalOptions none;
  none.sync = SyncMode::kNone;
  auto wal = Open(&replayed, none);
  ASSERT_TRUE(wal.ok()) << wal.status();
  auto position = (*wal)->AppendPayload("x");
  ASSERT_TRUE(position.ok());
  bool called = false;
  (*wal)->WhenDurable(*position, [&] { called = true; });
  EXPECT_TRUE(called);
}

TEST_F(WalTest, ATornTailIsCutOffWhereverTheWriteStopped) {
  std::vector<std::string> replayed;
  {
    auto wal = Open(&replayed);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*wal)->AppendPayload(Payload(i)).ok());
  }
  const fs::path segment = Segments().at(0);
  const auto whole = fs::file_size(segment);
  const auto two = whole - (8 + Payload(2).size());  // the first two records
  std::ifstream in(segment, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  // Every cut inside the third record's entry: header or payload.
  for (auto cut = two + 1; cut < whole; ++cut) {
    std::ofstream(segment, std::ios::binary | std::ios::trunc) << bytes.substr(0, cut);
    auto wal = Open(&replayed);
    ASSERT_TRUE(wal.ok()) << "cut at " << cut << ": " << wal.status();
    EXPECT_EQ(replayed.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(fs::file_size(segment), two) << "cut at " << cut;
  }
  // A tail of zeros (the file grew, its data never came) is torn too.
  std::ofstream(segment, std::ios::binary | std::ios::trunc)
      << bytes.substr(0, two) << std::string(64, '\0');
  auto wal = Open(&replayed);
  ASSERT_TRUE(wal.ok()) << wal.status();
  EXPECT_EQ(replayed.size(), 2u);
  EXPECT_EQ(fs::file_size(segment), two);
}

TEST_F(WalTest, CorruptionBeforeTheEndIsRefusedAndNothingChanges) {
  std::vector<std::string> replayed;
  {
    auto wal = Open(&replayed);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*wal)->AppendPayload(Payload(i)).ok());
  }
  const fs::path segment = Segments().at(0);
  const auto size = fs::file_size(segment);
  const auto second = 8 + Payload(0).size();
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(second + 9));  // the second record's payload
    f.put('!');
  }
  auto wal = Open(&replayed);
  ASSERT_FALSE(wal.ok());
  EXPECT_EQ(wal.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(wal.status().message(),
            absl::StrCat("corrupt record 1 in ", segment.string(), " at offset ", second,
                         ": its checksum does not match"));
  EXPECT_EQ(fs::file_size(segment), size);
}

TEST_F(WalTest, ACutInAnEarlierSegmentIsCorruptionNotATornTail) {
  std::vector<std::string> replayed;
  WalOptions small;
  small.segment_bytes = 100;
  {
    auto wal = Open(&replayed, small);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE((*wal)->AppendPayload(Payload(i)).ok());
  }
  const std::vector<fs::path> segments = Segments();
  ASSERT_GT(segments.size(), 2u);
  fs::resize_file(segments[0], fs::file_size(segments[0]) - 3);
  auto wal = Open(&replayed, small);
  ASSERT_FALSE(wal.ok());
  EXPECT_NE(wal.status().message().find(segments[0].string()), std::string::npos)
      << wal.status();
}

TEST_F(WalTest, AFailedAppendLeavesNoTraceAndLaterAppendsWork) {
  std::vector<std::string> replayed;
  auto wal = Open(&replayed);
  ASSERT_TRUE((*wal)->AppendPayload(Payload(0)).ok());
  const fs::path segment = Segments().at(0);
  const auto size = fs::file_size(segment);
  // A file size limit just above the current size: the next entry is cut
  // short by the kernel, as on a full disk.
  signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  rlimit tight = old;
  tight.rlim_cur = size + 4;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tight), 0);
  auto failed = (*wal)->AppendPayload(std::string(100, 'y'));
  setrlimit(RLIMIT_FSIZE, &old);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kResourceExhausted) << failed.status();
  EXPECT_NE(failed.status().message().find(segment.string()), std::string::npos);
  EXPECT_EQ(fs::file_size(segment), size);
  // Space is back: the next append takes the next position.
  auto next = (*wal)->AppendPayload(Payload(1));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 1u);
  wal->reset();
  auto reopened = Open(&replayed);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(replayed, (std::vector<std::string>{Payload(0), Payload(1)}));
}

TEST_F(WalTest, OneSyncCoversEverythingAppendedBeforeIt) {
  std::vector<std::string> replayed;
  auto wal = Open(&replayed);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE((*wal)->AppendPayload(Payload(i)).ok());
  (*wal)->WaitDurable(199);
  // The sync thread woke at the first append; the records appended while it
  // synced were covered by its next sync, and so on: far fewer syncs than
  // records.
  EXPECT_LE((*wal)->syncs(), 20u);
  EXPECT_GE((*wal)->syncs(), 1u);
}

TEST_F(WalTest, SegmentsASnapshotCoversAreDeletedAndReplayStartsAfterIt) {
  std::vector<std::string> replayed;
  WalOptions small;
  small.segment_bytes = 100;
  {
    auto wal = Open(&replayed, small);
    for (int i = 0; i < 30; ++i) ASSERT_TRUE((*wal)->AppendPayload(Payload(i)).ok());
    const size_t before = Segments().size();
    ASSERT_TRUE((*wal)->ReleaseBefore(20).ok());
    EXPECT_LT(Segments().size(), before);
    EXPECT_EQ((*wal)->next(), 30u);
  }
  start_ = 20;
  auto wal = Open(&replayed, small);
  ASSERT_TRUE(wal.ok()) << wal.status();
  ASSERT_EQ(replayed.size(), 10u);
  EXPECT_EQ(replayed.front(), Payload(20));
  EXPECT_EQ(*(*wal)->AppendPayload("next"), 30u);
  wal->reset();
  // Records before 20 are gone: a replay that needs them is refused.
  start_ = 0;
  auto refused = Open(&replayed, small);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(refused.status().message().find("records from 0 on are needed"), std::string::npos)
      << refused.status();
  // A snapshot beyond the log's end (written before the records it covers
  // were synced, and a crash lost them): appends go on after it.
  start_ = 99;
  auto after = Open(&replayed, small);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(replayed.empty());
  EXPECT_EQ(*(*after)->AppendPayload("later"), 99u);
  after->reset();
  ASSERT_TRUE(Open(&replayed, small).ok());
  EXPECT_EQ(replayed, std::vector<std::string>{"later"});
}

TEST(WalSyncMode, ParsesTheThreeModes) {
  EXPECT_EQ(*ParseSyncMode("always"), SyncMode::kAlways);
  EXPECT_EQ(*ParseSyncMode("batch"), SyncMode::kBatch);
  EXPECT_EQ(*ParseSyncMode("none"), SyncMode::kNone);
  EXPECT_EQ(ParseSyncMode("sometimes").status().message(),
            "unknown sync mode \"sometimes\"; use always, batch or none");
}

}  // namespace
}  // namespace atomix::broker
