// UnaryCore against an in-process fake broker.
#include <chrono>
#include <stop_token>
#include <string>
#include <thread>

#include "atomix/status.h"
#include "gtest/gtest.h"
#include "sdk/src/unary_transport.h"
#include "tests/unit/sdk_fake_broker.h"

namespace atomix::internal {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::AddRequest;
using testing::FakeBroker;

ClientOptions Options(const std::string& endpoint) {
  ClientOptions o = testing::FakeBrokerOptions(endpoint);
  o.transport = ClientOptions::Transport::kUnary;
  return o;
}

TEST(UnaryTransport, Answers) {
  FakeBroker broker("b1");
  UnaryCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(std::chrono::steady_clock::now() + seconds(30)).ok());
  EXPECT_EQ(core.connected_endpoint(), broker.endpoint());
  EXPECT_EQ(core.broker_id(), "");
  auto r = core.Call(AddRequest(5), {}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counter().value(), 5);
}

TEST(UnaryTransport, ErrorStatusCarriesCurrentFromTrailer) {
  FakeBroker broker("b1");
  UnaryCore core(Options(broker.endpoint()));
  auto r = core.Call(AddRequest(1, "fail"), {}, false);
  ASSERT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "mismatch");
  EXPECT_EQ(CurrentVersion(r.status()), 42);
}

TEST(UnaryTransport, DeadlineExceededWhenNotAnswered) {
  FakeBroker broker("b1", 0, FakeBroker::Mode::kHold);
  UnaryCore core(Options(broker.endpoint()));
  ASSERT_TRUE(core.WaitConnected(std::chrono::steady_clock::now() + seconds(30)).ok());
  auto r = core.Call(AddRequest(1), WithTimeout(milliseconds(200)), false);
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
}

TEST(UnaryTransport, UnavailableNamesTheEndpoint) {
  const std::string endpoint = "127.0.0.1:" + std::to_string(testing::UnusedPort());
  UnaryCore core(Options(endpoint));
  auto r = core.Call(AddRequest(1), WithTimeout(milliseconds(300)), true);
  ASSERT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_NE(r.status().message().find(endpoint), absl::string_view::npos) << r.status();
  absl::Status s = core.WaitConnected(std::chrono::steady_clock::now() + milliseconds(200));
  ASSERT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find(endpoint), absl::string_view::npos) << s;
}

TEST(UnaryTransport, Cancel) {
  FakeBroker broker("b1", 0, FakeBroker::Mode::kHold);
  UnaryCore core(Options(broker.endpoint()));
  std::stop_source stop;
  absl::StatusOr<v1::Response> r;
  std::thread t([&] { r = core.Call(AddRequest(1), WithCancel(stop.get_token()), false); });
  ASSERT_TRUE(broker.WaitForRequests(1));
  stop.request_stop();
  t.join();
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
}

TEST(UnaryTransport, WorksAgainAfterRestart) {
  auto broker = std::make_unique<FakeBroker>("first");
  const int port = broker->port();
  UnaryCore core(Options(broker->endpoint()));
  ASSERT_TRUE(core.Call(AddRequest(1), {}, false).ok());
  broker->Stop();
  broker = std::make_unique<FakeBroker>("second", port);
  auto r = core.Call(AddRequest(2), {}, true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counter().value(), 2);
}

}  // namespace
}  // namespace atomix::internal
