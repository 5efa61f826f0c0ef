// Quotas against the real broker over loopback: one small RequestBatch of
// 300 reads of a 1 MiB value (300 MB of answers without a cap) gets its
// tail refused with RESOURCE_EXHAUSTED naming --max-batch-answer-bytes,
// the broker's peak RSS stays bounded, and another client is served
// meanwhile; sequenced reads stop at the exactly-once byte cap
// (--max-unacked-bytes) until they are acknowledged.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/broker_process.h"
#include "tests/support/proc_memory.h"

namespace atomix {
namespace {

using testing::BrokerProcess;

constexpr int kResourceExhausted = 8;
constexpr size_t kValueBytes = 1 << 20;
constexpr int kReads = 300;
// The broker's peak resident set must stay under this while it answers
// the amplification batches: the cap allows 16 MiB of answers per batch
// (plus the gRPC copy of them), far from the 300 MiB a batch would
// otherwise make.
constexpr int64_t kMaxPeakKiB = 128 << 10;

// The broker's peak resident set size (VmHWM), in KiB; -1 if unknown.
v1::Request Get(const std::string& name, uint64_t id) {
  v1::Request request;
  request.set_id(id);
  request.set_type(v1::VALUE);
  request.set_name(name);
  request.mutable_value()->mutable_get();
  return request;
}

class Quota : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args) {
    BrokerProcess::Options options;
    options.args = std::move(args);
    auto broker = BrokerProcess::Start(options);
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
    stub_ = NewStub();
  }
  std::unique_ptr<v1::Broker::Stub> NewStub() {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    // A channel of its own, so that clients do not share a connection.
    args.SetInt("atomix.test.channel", next_channel_++);
    return v1::Broker::NewStub(grpc::CreateCustomChannel(
        broker_->endpoint(), grpc::InsecureChannelCredentials(), args));
  }
  grpc::Status Call(v1::Broker::Stub& stub, const v1::Request& request,
                    v1::Response& response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    return stub.Call(&context, request, &response);
  }
  void SetBigValue(const std::string& name) {
    v1::Request set;
    set.set_type(v1::VALUE);
    set.set_name(name);
    set.mutable_value()->mutable_set()->set_value(std::string(kValueBytes, 'x'));
    v1::Response response;
    grpc::Status status = Call(*stub_, set, response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<v1::Broker::Stub> stub_;
  int next_channel_ = 0;
};

// Sends one RequestBatch of kReads gets of `name` on a new stream and
// returns the responses, in any order.
std::vector<v1::Response> Amplify(v1::Broker::Stub& stub, const std::string& name) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub.Stream(&context);
  v1::ResponseBatch in;
  std::vector<v1::Response> responses;
  if (!stream->Read(&in) || !in.has_info()) return responses;
  v1::RequestBatch batch;
  for (int i = 1; i <= kReads; ++i) *batch.add_requests() = Get(name, i);
  if (!stream->Write(batch)) return responses;
  while (static_cast<int>(responses.size()) < kReads && stream->Read(&in)) {
    for (v1::Response& r : *in.mutable_responses()) responses.push_back(std::move(r));
  }
  stream->WritesDone();
  context.TryCancel();
  stream->Finish();
  return responses;
}

TEST_F(Quota, OneBatchOfLargeReadsIsCutAtTheAnswerCap) {
  Start({});  // the default cap: 16 MiB
  SetBigValue("big");
  const int64_t before = testing::ProcStatusKiB(broker_->pid(), "VmHWM");
  ASSERT_GT(before, 0);

  // Three amplification batches from one client while another client
  // keeps counting; every count must be served.
  std::vector<std::vector<v1::Response>> results(3);
  std::thread abuser([&] {
    auto stub = NewStub();
    for (auto& result : results) result = Amplify(*stub, "big");
  });
  auto normal = NewStub();
  int served = 0;
  for (int i = 0; i < 20; ++i) {
    v1::Request add;
    add.set_type(v1::COUNTER);
    add.set_name("normal");
    add.mutable_counter()->mutable_add()->set_delta(1);
    v1::Response response;
    grpc::Status status = Call(*normal, add, response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (status.ok() && response.counter().value() == i + 1) ++served;
  }
  abuser.join();
  EXPECT_EQ(served, 20);

  for (const auto& responses : results) {
    ASSERT_EQ(static_cast<int>(responses.size()), kReads);
    int answered = 0;
    int refused = 0;
    for (const v1::Response& r : responses) {
      if (!r.has_error()) {
        EXPECT_EQ(r.value().value().size(), kValueBytes);
        ++answered;
        continue;
      }
      EXPECT_EQ(r.error().code(), kResourceExhausted) << r.error().message();
      EXPECT_NE(r.error().message().find("--max-batch-answer-bytes"),
                std::string::npos)
          << r.error().message();
      ++refused;
    }
    // Each answer is 1 MiB and a little more: 16 pass the 16 MiB cap.
    EXPECT_EQ(answered, 16);
    EXPECT_EQ(refused, kReads - 16);
  }
  const int64_t peak = testing::ProcStatusKiB(broker_->pid(), "VmHWM");
  std::printf("broker VmHWM: %lld KiB before, %lld KiB after 3 batches\n",
              static_cast<long long>(before), static_cast<long long>(peak));
  EXPECT_LT(peak, kMaxPeakKiB + (testing::kSanitizerSlackMiB << 10));
}

TEST_F(Quota, SequencedReadsStopAtTheExactlyOnceByteCap) {
  Start({"--max-unacked-bytes", std::to_string(4 << 20)});
  SetBigValue("big");
  v1::Request open;
  open.mutable_session()->mutable_open();
  v1::Response opened;
  ASSERT_TRUE(Call(*stub_, open, opened).ok());
  const uint64_t session = opened.session().session_id();
  ASSERT_NE(session, 0u);
  auto sequenced = [&](uint64_t sequence, uint64_t ack) {
    v1::Request get = Get("big", sequence);
    get.set_session_id(session);
    get.set_sequence(sequence);
    get.set_ack_sequence(ack);
    v1::Response response;
    return Call(*stub_, get, response);
  };
  // Remembered before each: 0, 1, 2, 3 MiB (and a little), all under 4 MiB.
  for (uint64_t seq = 1; seq <= 4; ++seq) {
    grpc::Status status = sequenced(seq, 0);
    EXPECT_TRUE(status.ok()) << seq << ": " << status.error_message();
  }
  grpc::Status refused = sequenced(5, 0);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("--max-unacked-bytes"), std::string::npos)
      << refused.error_message();
  // Acknowledging makes room again.
  grpc::Status again = sequenced(5, 4);
  EXPECT_TRUE(again.ok()) << again.error_message();
}

}  // namespace
}  // namespace atomix
