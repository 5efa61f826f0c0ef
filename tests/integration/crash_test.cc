// Crash test: 64 callers (4 clients with a session each, 16 threads each)
// run a mixed load (tests/support/mixed_load.h: counter, map compare-and-set,
// lock, election) while the disk-store broker is SIGKILLed at random
// moments and restarted, kCrashes times. After every restart every
// acknowledged increment is there; at the end the whole history, across
// every restart, passes MixedLoad::Check.
// Snapshots are taken every 2000 records, so recoveries start from them.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/mixed_load.h"
#include "tests/support/scale.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kClients = 4;
constexpr int kThreadsPerClient = 16;
constexpr int kCrashes = 10;

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/atomix-crash-XXXXXX";
    dir_ = mkdtemp(tmpl);
    BrokerProcess::Options o;
    // Snapshots every 2000 records, so kills also land while one is
    // being written, and recoveries start from them.
    o.args = {"--store", "disk", "--data-dir", dir_, "--snapshot-records", "2000",
              "--wal-segment-bytes", "65536"};
    auto b = BrokerProcess::Start(o);
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(*b);
  }
  void TearDown() override {
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(CrashTest, NothingAcknowledgedIsLostAcrossRepeatedSigkills) {
  std::vector<Client> clients;
  for (int c = 0; c < kClients; ++c) {
    ClientOptions o = OptionsFor(*broker_);
    o.session_ttl = seconds(10);
    o.default_call_timeout = seconds(10);
    auto client = Client::Connect(o);
    ASSERT_TRUE(client.ok()) << client.status();
    clients.push_back(*client);
  }
  MixedLoad load(clients, kThreadsPerClient);

  std::mt19937 rng(2026);
  auto reader = Client::Connect(OptionsFor(*broker_));
  ASSERT_TRUE(reader.ok());
  auto hits = GetCounter(*reader, "hits");
  ASSERT_TRUE(hits.ok());
  for (int crash = 0; crash < kCrashes; ++crash) {
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(150, 500)(rng)));
    const int64_t acked_before = load.max_acked();
    broker_->Kill(SIGKILL);
    ASSERT_TRUE(broker_->Restart().ok()) << "restart " << crash;
    // Every increment acknowledged before the kill survived it.
    auto value = hits->Get(WithTimeout(seconds(10)));
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_GE(*value, acked_before) << "after restart " << crash;
  }
  std::this_thread::sleep_for(milliseconds(300));
  load.Check(*reader);
  std::printf("%d crashes\n", kCrashes);
}

}  // namespace
}  // namespace atomix::testing
