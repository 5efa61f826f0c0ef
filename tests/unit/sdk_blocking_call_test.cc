// Blocking calls in the stream transport, against a scripted broker that
// never answers a lock acquire: every write of the acquire carries the time
// its caller has left; a caller that gives up makes the client send a
// CancelRequest for the acquire's (session, sequence); and a grant reported
// by the cancel goes back through the primitive's give-back request.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "atomix/client.h"
#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sdk/src/stream_transport.h"
#include "tests/unit/sdk_fake_broker.h"

namespace atomix::internal {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::WaitUntil;

constexpr uint64_t kSession = 9;
constexpr int64_t kFence = 42;

// Answers session requests; holds lock acquires forever (recording each
// write); answers a cancel with a grant of kFence (or, with
// `grant_on_cancel` false, as withdrawn); records releases.
class HoldingBroker final : public v1::Broker::Service {
 public:
  explicit HoldingBroker(bool grant_on_cancel) : grant_on_cancel_(grant_on_cancel) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~HoldingBroker() override {
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  std::vector<v1::Request> acquires() const { return Copy(acquires_); }
  std::vector<v1::Request> cancels() const { return Copy(cancels_); }
  std::vector<v1::Request> releases() const { return Copy(releases_); }

  grpc::Status Stream(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::ResponseBatch, v1::RequestBatch>* stream) override {
    v1::ResponseBatch hello;
    hello.mutable_info()->set_broker_id("holding");
    if (!stream->Write(hello)) return grpc::Status::OK;
    v1::RequestBatch batch;
    while (stream->Read(&batch)) {
      v1::ResponseBatch out;
      for (const v1::Request& r : batch.requests()) {
        if (r.has_lock() && r.lock().has_acquire()) {
          Record(acquires_, r);
          continue;  // Held: never answered.
        }
        v1::Response* response = out.add_responses();
        response->set_id(r.id());
        if (r.has_session()) {
          response->mutable_session()->set_session_id(kSession);
          response->mutable_session()->set_ttl_ms(10000);
        } else if (r.has_cancel()) {
          Record(cancels_, r);
          if (grant_on_cancel_) {
            v1::Response* answer = response->mutable_cancel()->mutable_answer();
            answer->mutable_lock()->set_acquired(true);
            answer->mutable_lock()->set_version(kFence);
          } else {
            response->mutable_cancel()->set_cancelled(true);
          }
        } else if (r.has_lock() && r.lock().has_release()) {
          Record(releases_, r);
          response->mutable_lock()->set_version(kFence + 1);
        }
      }
      if (out.responses_size() > 0 && !stream->Write(out)) break;
    }
    return grpc::Status::OK;
  }

 private:
  void Record(std::vector<v1::Request>& into, const v1::Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    into.push_back(r);
  }
  std::vector<v1::Request> Copy(const std::vector<v1::Request>& from) const {
    std::lock_guard<std::mutex> lock(mu_);
    return from;
  }

  const bool grant_on_cancel_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  mutable std::mutex mu_;
  std::vector<v1::Request> acquires_, cancels_, releases_;
};

v1::Request Acquire() {
  v1::Request r;
  r.set_type(v1::LOCK);
  r.set_name("db");
  r.mutable_lock()->mutable_acquire();
  return r;
}

GiveBack ReleaseGrant(std::atomic<int>* calls) {
  return [calls](const v1::Response& late) -> std::optional<v1::Request> {
    ++*calls;
    if (!late.lock().acquired()) return std::nullopt;
    v1::Request release;
    release.set_type(v1::LOCK);
    release.set_name("db");
    release.mutable_lock()->mutable_release()->set_if_version(late.lock().version());
    return release;
  };
}

std::unique_ptr<StreamCore> Connect(const HoldingBroker& broker) {
  ClientOptions o;
  o.endpoints = {broker.endpoint()};
  auto core = std::make_unique<StreamCore>(o);
  EXPECT_TRUE(core->WaitConnected(std::chrono::steady_clock::now() + seconds(10)).ok());
  EXPECT_EQ(core->session_id(), kSession);
  return core;
}

TEST(BlockingCall, EveryWriteCarriesTheTimeLeftAndAGrantThatCrossedIsReleased) {
  HoldingBroker broker(/*grant_on_cancel=*/true);
  auto core = Connect(broker);
  std::atomic<int> give_backs{0};
  const auto start = std::chrono::steady_clock::now();
  std::thread breaker([&] {
    ASSERT_TRUE(WaitUntil([&] { return broker.acquires().size() == 1; }));
    std::this_thread::sleep_until(start + milliseconds(600));
    core->TEST_BreakStream();
  });
  auto r = core->CallBlocking(Acquire(), WithTimeout(milliseconds(1500)),
                              ReleaseGrant(&give_backs));
  breaker.join();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();

  // First write: 1500 ms less a tenth. Every resend (on the live stream
  // while the answer is missing, and after the reset 600 ms in) carries
  // what was left then, never the original timeout again.
  std::vector<v1::Request> acquires = broker.acquires();
  ASSERT_GE(acquires.size(), 2u);
  EXPECT_GE(acquires[0].timeout_ms(), 1300);
  EXPECT_LE(acquires[0].timeout_ms(), 1350);
  const uint64_t sequence = acquires[0].sequence();
  EXPECT_GT(sequence, 0u);
  for (size_t i = 1; i < acquires.size(); ++i) {
    EXPECT_EQ(acquires[i].sequence(), sequence);  // the same request, resent
    EXPECT_LT(acquires[i].timeout_ms(), acquires[i - 1].timeout_ms()) << "write " << i;
  }
  EXPECT_LE(acquires.back().timeout_ms(), 900);

  // The caller gave up: the client cancels that sequence, and releases the
  // grant the broker reports, with its fence, under the same session.
  ASSERT_TRUE(WaitUntil([&] { return broker.releases().size() == 1; }, seconds(5)));
  std::vector<v1::Request> cancels = broker.cancels();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].cancel().sequence(), sequence);
  EXPECT_EQ(cancels[0].session_id(), kSession);
  EXPECT_EQ(cancels[0].sequence(), 0u);
  v1::Request release = broker.releases()[0];
  EXPECT_EQ(release.lock().release().if_version(), kFence);
  EXPECT_EQ(release.session_id(), kSession);
  EXPECT_GT(release.sequence(), sequence);
  EXPECT_EQ(give_backs.load(), 1);
  // The acquire's sequence was kept unacknowledged until the cancel was
  // answered, and no further.
  EXPECT_LT(cancels[0].ack_sequence(), sequence);
  EXPECT_TRUE(WaitUntil([&] { return core->TEST_AckSequence() >= sequence; }, seconds(5)));
}

TEST(BlockingCall, ACancelledCallerIsWithdrawnAndNothingIsReleased) {
  HoldingBroker broker(/*grant_on_cancel=*/false);
  auto core = Connect(broker);
  std::atomic<int> give_backs{0};
  std::stop_source stop;
  std::thread canceller([&] {
    ASSERT_TRUE(WaitUntil([&] { return broker.acquires().size() == 1; }));
    stop.request_stop();
  });
  CallOptions options = WithCancel(stop.get_token());
  options.timeout = seconds(30);
  auto r = core->CallBlocking(Acquire(), options, ReleaseGrant(&give_backs));
  canceller.join();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled) << r.status();
  ASSERT_TRUE(WaitUntil([&] { return broker.cancels().size() == 1; }, seconds(5)));
  EXPECT_EQ(broker.cancels()[0].cancel().sequence(), broker.acquires()[0].sequence());
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_TRUE(broker.releases().empty());
  EXPECT_EQ(give_backs.load(), 0);
}

TEST(BlockingCall, ACallerThatGivesUpBeforeTheWriteLeavesNothingBehind) {
  HoldingBroker broker(/*grant_on_cancel=*/true);
  auto core = Connect(broker);
  core->TEST_HoldWrites(true);
  std::atomic<int> give_backs{0};
  auto r = core->CallBlocking(Acquire(), WithTimeout(milliseconds(100)), ReleaseGrant(&give_backs));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  core->TEST_HoldWrites(false);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_TRUE(broker.acquires().empty());
  EXPECT_TRUE(broker.cancels().empty());
  EXPECT_EQ(give_backs.load(), 0);
}

}  // namespace
}  // namespace atomix::internal
