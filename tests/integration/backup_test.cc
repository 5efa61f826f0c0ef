// Backup and restore with real processes: Admin.Backup streams a consistent
// snapshot of a running broker; `atomix-broker --restore` turns it into a
// new data dir; a broker started on it holds exactly the state at the
// backup (later writes absent), under a new broker id. Restoring into a
// non-empty dir, or from a damaged file, is refused with a clear error.
#include <gtest/gtest.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "atomix/v1/admin.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;

std::string TempDir() {
  char tmpl[] = "/tmp/atomix-backup-XXXXXX";
  return mkdtemp(tmpl);
}

// Runs atomix-broker with `args`; returns (exit code, output).
std::pair<int, std::string> RunBroker(const std::string& args) {
  const std::string command = absl::StrCat(ATOMIX_BROKER_BIN, " ", args, " 2>&1");
  FILE* out = popen(command.c_str(), "r");
  std::string text;
  char buf[512];
  while (out != nullptr && fgets(buf, sizeof(buf), out) != nullptr) text += buf;
  const int status = out == nullptr ? -1 : pclose(out);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

TEST(Backup, ARestoredBrokerHoldsExactlyTheStateAtTheBackup) {
  const std::string work = TempDir();
  BrokerProcess::Options o;
  o.args = {"--store", "disk", "--data-dir", work + "/a"};
  auto a = BrokerProcess::Start(o);
  ASSERT_TRUE(a.ok()) << a.status();
  auto client = Client::Connect(OptionsFor(**a));
  ASSERT_TRUE(client.ok());
  auto counter = GetCounter(*client, "jobs");
  auto map = GetMap<std::string, std::string>(*client, "config");
  auto lock = GetLock(*client, "db");
  ASSERT_TRUE(counter.ok() && map.ok() && lock.ok());
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(counter->Increment().ok());
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(map->Put(absl::StrCat("k", i), absl::StrCat("v", i)).ok());
  auto fence = lock->Acquire(WithTimeout(seconds(5)));
  ASSERT_TRUE(fence.ok());
  auto last = map->Get("k39");
  ASSERT_TRUE(last.ok() && last->has_value());

  // Backup over the Admin service.
  auto stub = v1::Admin::NewStub(
      grpc::CreateChannel((*a)->endpoint(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto reader = stub->Backup(&context, v1::BackupRequest());
  v1::BackupChunk chunk;
  std::string file;
  int64_t revision = -1;
  uint64_t total = 0;
  while (reader->Read(&chunk)) {
    if (revision < 0) {
      revision = chunk.revision();
      total = chunk.total_bytes();
    }
    file += chunk.data();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(file.size(), total);
  EXPECT_EQ(revision, fence->version);  // the last mutation before it
  const std::string backup = work + "/backup.snap";
  std::ofstream(backup, std::ios::binary) << file;

  // Writes after the backup are not in it.
  ASSERT_TRUE(counter->Increment().ok());
  ASSERT_TRUE(map->Put("later", "x").ok());

  auto [code, output] = RunBroker(absl::StrCat("--restore ", backup, " --data-dir ", work, "/b"));
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find(absl::StrCat("at revision ", revision)), std::string::npos) << output;

  BrokerProcess::Options ob;
  ob.args = {"--store", "disk", "--data-dir", work + "/b"};
  auto b = BrokerProcess::Start(ob);
  ASSERT_TRUE(b.ok()) << b.status();
  auto other = Client::Connect(OptionsFor(**b));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->broker_id(), client->broker_id());
  auto restored_counter = GetCounter(*other, "jobs")->Get();
  ASSERT_TRUE(restored_counter.ok());
  EXPECT_EQ(*restored_counter, 25);
  auto restored_map = GetMap<std::string, std::string>(*other, "config");
  ASSERT_TRUE(restored_map.ok());
  auto size = restored_map->Size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 40u);
  auto again = restored_map->Get("k39");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->value, (*last)->value);
  EXPECT_EQ((*again)->version, (*last)->version);
  auto later = restored_map->Get("later");
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(later->has_value());
  // The lock is held at the same fence, and new revisions go on above it.
  auto held = GetLock(*other, "db")->IsLocked(WithVersion(fence->version));
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(*held);
  auto next = GetCounter(*other, "jobs")->Increment();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->version, revision + 1);

  // Refusals.
  auto [busy_code, busy] = RunBroker(absl::StrCat("--restore ", backup, " --data-dir ", work, "/b"));
  EXPECT_EQ(busy_code, 1);
  EXPECT_NE(busy.find(absl::StrCat("data dir ", work, "/b is not empty")), std::string::npos)
      << busy;
  std::filesystem::resize_file(backup, file.size() / 2);
  auto [bad_code, bad] = RunBroker(absl::StrCat("--restore ", backup, " --data-dir ", work, "/c"));
  EXPECT_EQ(bad_code, 1);
  EXPECT_NE(bad.find(absl::StrCat(backup, ": is cut short")), std::string::npos) << bad;
  EXPECT_FALSE(std::filesystem::exists(work + "/c"));

  b->reset();
  a->reset();
  std::filesystem::remove_all(work);
}

}  // namespace
}  // namespace atomix::testing
