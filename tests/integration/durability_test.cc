// The disk store, with real broker processes: state, revisions, fences,
// sessions and the broker id survive SIGKILL and a restart; a watch resumes
// across the restart without a gap; a torn tail is cut off; corruption in
// the middle of the log, a data dir held by another broker, and a data dir
// that is not a directory each stop the broker with an error naming the
// path.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/test_client.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string TempDir() {
  char tmpl[] = "/tmp/atomix-data-XXXXXX";
  return mkdtemp(tmpl);
}

class Durability : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    auto b = BrokerProcess::Start(Disk());
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(*b);
  }
  void TearDown() override {
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }

  BrokerProcess::Options Disk() const {
    BrokerProcess::Options o;
    o.args = {"--store", "disk", "--data-dir", dir_};
    return o;
  }
  Client Connect() {
    ClientOptions o = OptionsFor(*broker_);
    o.session_ttl = seconds(10);
    auto c = Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }
  std::string Segment() const {
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/wal")) {
      return e.path().string();
    }
    return "";
  }

  std::string dir_;
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(Durability, StateRevisionsFencesAndSessionsSurviveSigkill) {
  Client client = Connect();
  auto counter = GetCounter(client, "jobs");
  auto map = GetMap<std::string, std::string>(client, "config");
  auto lock = GetLock(client, "db");
  ASSERT_TRUE(counter.ok() && map.ok() && lock.ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(counter->Increment().ok());
  auto put = map->Put("mode", "blue");
  ASSERT_TRUE(put.ok());
  auto fence = lock->Acquire(WithTimeout(seconds(5)));
  ASSERT_TRUE(fence.ok()) << fence.status();
  const uint64_t session = client.session_id();
  const std::string broker_id = client.broker_id();

  broker_->Kill(SIGKILL);
  ASSERT_TRUE(broker_->Restart().ok());

  // The same client carries on, on the same session, which still holds the
  // lock at the same fence.
  auto value = counter->Get(WithTimeout(seconds(10)));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 50);
  auto mode = map->Get("mode");
  ASSERT_TRUE(mode.ok() && mode->has_value());
  EXPECT_EQ((*mode)->value, "blue");
  EXPECT_EQ((*mode)->version, *put);
  EXPECT_EQ(client.session_id(), session);
  EXPECT_EQ(client.broker_id(), broker_id);
  auto held = lock->IsLocked(WithVersion(fence->version));
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(*held);

  // Revisions go on from where they stopped: a new grant's fence is higher.
  auto next = counter->Increment();
  ASSERT_TRUE(next.ok());
  EXPECT_GT(next->version, fence->version);
  ASSERT_TRUE(lock->Release().ok());
  Client other = Connect();
  auto again = GetLock(other, "db")->Acquire(WithTimeout(seconds(5)));
  ASSERT_TRUE(again.ok());
  EXPECT_GT(again->version, next->version);
}

// Reads are not input records: they leave the log as it was (no write, no
// fdatasync), and still see every acknowledged write, before and after a
// SIGKILL.
TEST_F(Durability, ReadsAddNothingToTheLog) {
  ClientOptions o = OptionsFor(*broker_);
  o.session_ttl = seconds(60);  // No keep-alive (a write) while it reads.
  auto connected = Client::Connect(o);
  ASSERT_TRUE(connected.ok()) << connected.status();
  Client client = *connected;
  auto map = GetMap<std::string, std::string>(client, "config");
  ASSERT_TRUE(map.ok());
  auto put = map->Put("mode", "blue");
  ASSERT_TRUE(put.ok()) << put.status();
  const std::string segment = Segment();
  ASSERT_FALSE(segment.empty());
  const auto before = std::filesystem::file_size(segment);
  std::vector<Future<std::optional<Versioned<std::string>>>> reads;
  for (int i = 0; i < 500; ++i) reads.push_back(map->GetAsync("mode"));
  for (auto& r : reads) {
    auto v = r.get();
    ASSERT_TRUE(v.ok() && v->has_value()) << v.status();
    EXPECT_EQ((*v)->version, *put);
  }
  EXPECT_EQ(*map->Size(), 1);
  EXPECT_TRUE(*map->Contains("mode"));
  EXPECT_EQ(std::filesystem::file_size(segment), before);

  broker_->Kill(SIGKILL);
  ASSERT_TRUE(broker_->Restart().ok());
  auto after = map->Get("mode", WithTimeout(seconds(10)));
  ASSERT_TRUE(after.ok() && after->has_value()) << after.status();
  EXPECT_EQ((*after)->version, *put);
}

TEST_F(Durability, AWatchResumesAcrossARestartWithoutAGap) {
  Client client = Connect();
  auto counter = GetCounter(client, "c");
  ASSERT_TRUE(counter.ok());
  auto watch = counter->Watch();
  ASSERT_TRUE(watch.ok()) << watch.status();
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(counter->Increment().ok());
  broker_->Kill(SIGKILL);
  ASSERT_TRUE(broker_->Restart().ok());
  for (int i = 6; i <= 10; ++i) ASSERT_TRUE(counter->Increment(1, WithTimeout(seconds(10))).ok());
  std::vector<int64_t> seen;
  while (seen.size() < 10) {
    auto e = watch->Receive(seconds(10));
    ASSERT_TRUE(e.has_value()) << "got " << seen.size() << " events";
    ASSERT_NE(e->type, EventType::kResync) << "the restart forced a resync";
    seen.push_back(e->value);
  }
  for (int i = 0; i < 10; ++i) EXPECT_EQ(seen[i], i + 1);
}

TEST_F(Durability, ATornTailIsCutOffAndTheRestIsKept) {
  Client client = Connect();
  auto counter = GetCounter(client, "n");
  ASSERT_TRUE(counter.ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(counter->Increment().ok());
  broker_->Kill(SIGKILL);
  const std::string segment = Segment();
  const auto size = std::filesystem::file_size(segment);
  std::mt19937 rng(42);
  int64_t last = 40;
  // Cut the segment shorter and shorter at random offsets: every restart
  // keeps a prefix, and the counter never goes up.
  for (int round = 0; round < 5; ++round) {
    const auto cut = std::uniform_int_distribution<uintmax_t>(size / 2, size - 1)(rng) -
                     static_cast<uintmax_t>(round) * (size / 12);
    std::filesystem::resize_file(segment, std::min<uintmax_t>(cut, std::filesystem::file_size(segment)));
    ASSERT_TRUE(broker_->Restart().ok()) << "round " << round;
    Client reader = Connect();
    auto value = GetCounter(reader, "n")->Get(WithTimeout(seconds(10)));
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_LE(*value, last);
    EXPECT_GT(*value, 0);
    last = *value;
    broker_->Kill(SIGKILL);
  }
  EXPECT_LT(last, 40);
}

TEST_F(Durability, CorruptionInTheMiddleStopsTheBrokerNamingTheFile) {
  Client client = Connect();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(GetCounter(client, "n")->Increment().ok());
  broker_->Kill(SIGKILL);
  const std::string segment = Segment();
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);  // inside the first record's payload
    f.put('\x7f');
  }
  const auto size_before = std::filesystem::file_size(segment);
  auto again = BrokerProcess::Start(Disk());
  ASSERT_FALSE(again.ok());
  const std::string message(again.status().message());
  EXPECT_NE(message.find("exited with 1"), std::string::npos) << message;
  EXPECT_NE(message.find(absl::StrCat("corrupt record 0 in ", segment, " at offset 0")),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("checksum does not match"), std::string::npos) << message;
  // Nothing was cut off or rewritten.
  EXPECT_EQ(std::filesystem::file_size(segment), size_before);
}

TEST_F(Durability, ADataDirServesOneBroker) {
  auto second = BrokerProcess::Start(Disk());
  ASSERT_FALSE(second.ok());
  const std::string message(second.status().message());
  EXPECT_NE(message.find(absl::StrCat(dir_, "/LOCK is locked by another broker (pid ",
                                      broker_->pid(), ")")),
            std::string::npos)
      << message;
}

TEST(DurabilityBadDir, ADataDirThatIsAFileIsRefused) {
  const std::string dir = TempDir();
  const std::string file = dir + "/not-a-dir";
  std::ofstream(file) << "x";
  BrokerProcess::Options o;
  o.args = {"--store", "disk", "--data-dir", file};
  auto broker = BrokerProcess::Start(o);
  ASSERT_FALSE(broker.ok());
  EXPECT_NE(std::string(broker.status().message()).find(file + " exists and is not a directory"),
            std::string::npos)
      << broker.status();
  std::filesystem::remove_all(dir);
}

TEST(DurabilityBadDir, AnUnwritableDataDirIsRefused) {
  // Root writes anywhere: as root, the broker runs as nobody, and the data
  // dir belongs to root.
  const std::string dir = TempDir();
  BrokerProcess::Options o;
  if (geteuid() == 0) {
    chmod(dir.c_str(), 0755);
    o.as_nobody = true;
  } else {
    chmod(dir.c_str(), 0500);
  }
  o.args = {"--store", "disk", "--data-dir", dir + "/data"};
  auto broker = BrokerProcess::Start(o);
  ASSERT_FALSE(broker.ok());
  EXPECT_NE(std::string(broker.status().message())
                .find(absl::StrCat("cannot create ", dir, "/data: Permission denied")),
            std::string::npos)
      << broker.status();
  chmod(dir.c_str(), 0700);
  std::filesystem::remove_all(dir);
}

class DurabilitySnapshots : public Durability {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    auto b = BrokerProcess::Start(Small());
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(*b);
  }
  BrokerProcess::Options Small() const {
    BrokerProcess::Options o = Disk();
    o.args.insert(o.args.end(),
                  {"--snapshot-records", "100", "--wal-segment-bytes", "4096"});
    return o;
  }
  std::vector<std::string> Files(const std::string& sub) const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/" + sub)) {
      // Not the temporary file of a snapshot being written.
      if (e.path().extension() == ".tmp") continue;
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(DurabilitySnapshots, SnapshotsReplaceTheLogAndRecoveryStartsFromThem) {
  Client client = Connect();
  auto counter = GetCounter(client, "n");
  auto map = GetMap<std::string, std::string>(client, "m");
  auto lock = GetLock(client, "l");
  ASSERT_TRUE(counter.ok() && map.ok() && lock.ok());
  auto fence = lock->Acquire(WithTimeout(seconds(5)));
  ASSERT_TRUE(fence.ok());
  for (int i = 0; i < 600; ++i) {
    ASSERT_TRUE(counter->Increment().ok());
    ASSERT_TRUE(map->Put(absl::StrCat("k", i % 50), absl::StrCat("v", i)).ok());
  }
  // Snapshots were written, and the log they cover was deleted: what is
  // left is a few small segments, not 1200 records' worth.
  ASSERT_TRUE(WaitUntil([&] { return !Files("snap").empty(); }, seconds(10)));
  EXPECT_LE(Files("snap").size(), 2u);
  uint64_t log_bytes = 0;
  for (const auto& f : Files("wal")) log_bytes += std::filesystem::file_size(dir_ + "/wal/" + f);
  EXPECT_LT(log_bytes, 60000u);

  broker_->Kill(SIGKILL);
  ASSERT_TRUE(broker_->Restart().ok());
  auto value = counter->Get(WithTimeout(seconds(10)));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 600);
  auto last = map->Get("k49");
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->value, "v599");
  // The session, and its lock, came through the snapshot too.
  auto held = lock->IsLocked(WithVersion(fence->version));
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(*held);
  auto size = map->Size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 50u);
}

TEST_F(DurabilitySnapshots, AWatchFromBeforeTheSnapshotResyncsInsteadOfMissingEvents) {
  Client client = Connect();
  auto counter = GetCounter(client, "n");
  ASSERT_TRUE(counter.ok());
  auto first = counter->Increment();
  ASSERT_TRUE(first.ok());
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(counter->Increment().ok());
  ASSERT_TRUE(WaitUntil([&] { return !Files("snap").empty(); }, seconds(10)));
  broker_->Kill(SIGKILL);
  ASSERT_TRUE(broker_->Restart().ok());
  // Resuming from the first revision: those events are in no history now.
  auto watch = counter->Watch(WithStartVersion(first->version + 1));
  ASSERT_TRUE(watch.ok()) << watch.status();
  auto e = watch->Receive(seconds(10));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, EventType::kResync);
  EXPECT_EQ(e->value, 301);
}

TEST_F(DurabilitySnapshots, AnUnreadableSnapshotStopsTheBrokerNamingIt) {
  Client client = Connect();
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(GetCounter(client, "n")->Increment().ok());
  ASSERT_TRUE(WaitUntil([&] { return !Files("snap").empty(); }, seconds(10)));
  broker_->Kill(SIGKILL);
  const std::string snap = dir_ + "/snap/" + Files("snap").back();
  std::filesystem::resize_file(snap, std::filesystem::file_size(snap) - 5);
  auto again = BrokerProcess::Start(Small());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(std::string(again.status().message()).find(snap + ": is cut short"),
            std::string::npos)
      << again.status();
}

// A small tmpfs mounted for one test, so that the disk really fills up.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) : dir_(TempDir()) {
    if (geteuid() != 0) return;
    mounted_ = system(absl::StrCat("mount -t tmpfs -o size=", size, " tmpfs ", dir_,
                                   " 2>/dev/null").c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) (void)system(absl::StrCat("umount ", dir_).c_str());
    std::filesystem::remove_all(dir_);
  }
  bool mounted() const { return mounted_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

TEST(DurabilityDiskFull, WritesFailNamingTheDiskReadsAndWatchesGoOnWritesComeBack) {
  SmallDisk disk("512k");
  if (!disk.mounted()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  BrokerProcess::Options o;
  o.args = {"--store", "disk", "--data-dir", disk.dir() + "/data"};
  auto broker = BrokerProcess::Start(o);
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto client = Client::Connect(OptionsFor(**broker));
  ASSERT_TRUE(client.ok()) << client.status();
  auto counter = GetCounter(*client, "c");
  auto map = GetMap<std::string, std::string>(*client, "m");
  ASSERT_TRUE(counter.ok() && map.ok());
  ASSERT_TRUE(counter->Increment().ok());
  auto watch = counter->Watch();
  ASSERT_TRUE(watch.ok());

  // Fill the disk: a filler file, then values until a write is refused.
  const std::string filler = disk.dir() + "/filler";
  (void)system(absl::StrCat("dd if=/dev/zero of=", filler, " bs=4k 2>/dev/null").c_str());
  absl::Status refused;
  int accepted = 0;
  for (int i = 0; i < 1000 && refused.ok(); ++i) {
    auto put = map->Put(absl::StrCat("k", i), std::string(4096, 'v'));
    if (put.ok()) ++accepted; else refused = put.status();
  }
  ASSERT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_NE(refused.message().find(disk.dir() + "/data/wal/"), std::string::npos) << refused;
  EXPECT_NE(refused.message().find("No space left on device"), std::string::npos) << refused;
  // Nothing half-applied: the refused key is not there.
  auto missing = map->Get(absl::StrCat("k", accepted));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());
  // Small records may still fit for a while; then they are refused too.
  int64_t increments = 1;
  absl::Status small;
  for (int i = 0; i < 100000 && small.ok(); ++i) {
    auto r = counter->Increment();
    if (r.ok()) ++increments; else small = r.status();
  }
  ASSERT_EQ(small.code(), absl::StatusCode::kResourceExhausted) << small;

  // Reads still work, and see exactly the writes that were accepted.
  auto value = counter->Get();
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, increments);
  if (accepted > 0) EXPECT_TRUE(map->Get("k0").ok());

  // Space comes back: writes succeed, and the watch saw every accepted
  // write and then this one, in order.
  std::filesystem::remove(filler);
  auto after = counter->Increment(1, WithTimeout(seconds(10)));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->value, increments + 1);
  for (int64_t v = 2; v <= increments + 1; ++v) {
    auto event = watch->Receive(seconds(10));
    ASSERT_TRUE(event.has_value()) << "no event for " << v;
    ASSERT_EQ(event->value, v);
  }
  (*broker)->Kill(SIGKILL);
}

}  // namespace
}  // namespace atomix::testing
