// Unparseable messages on every method of the real broker, sent as raw
// bytes the way a broken or hostile client would: each is answered with
// INVALID_ARGUMENT naming the method and what did not parse; on Stream the
// answers of the batches before the bad one all arrive first and the error
// names the bad message's number. The broker serves a normal client after.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/generic_call.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

// Not a protobuf encoding: a tag whose varint never ends.
const std::string kGarbage("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11);

bool Has(const grpc::Status& status, const std::string& text) {
  return status.error_message().find(text) != std::string::npos;
}

// A Stream spoken in raw bytes: writes `messages`, half-closes, and reads
// every ResponseBatch until the broker ends the call.
struct StreamResult {
  grpc::Status status;
  std::vector<v1::ResponseBatch> batches;
};

StreamResult RawStream(const std::shared_ptr<grpc::Channel>& channel,
                       const std::vector<std::string>& messages) {
  GenericStreamResult raw = GenericStreamExchange(
      channel, "/atomix.v1.Broker/Stream", messages, std::chrono::seconds(20));
  StreamResult result;
  result.status = raw.status;
  for (const std::string& bytes : raw.messages) {
    v1::ResponseBatch batch;
    EXPECT_TRUE(batch.ParseFromString(bytes));
    result.batches.push_back(std::move(batch));
  }
  return result;
}

std::string CounterAdd(uint64_t id, const std::string& name) {
  v1::Request request;
  request.set_id(id);
  request.set_type(v1::COUNTER);
  request.set_name(name);
  request.mutable_counter()->mutable_add()->set_delta(1);
  return request.SerializeAsString();
}

std::string Batch(std::vector<std::string> requests) {
  v1::RequestBatch batch;
  for (const std::string& r : requests) {
    EXPECT_TRUE(batch.add_requests()->ParseFromString(r));
  }
  return batch.SerializeAsString();
}

class HostileInput : public BrokerTest {
 protected:
  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel(broker().endpoint(), grpc::InsecureChannelCredentials());
  }

  // A normal client is still served.
  void ExpectServed(const std::string& name) {
    auto c = GetCounter(client(), name);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(c->Increment().ok());
    EXPECT_TRUE(broker().running());
  }
};

TEST_F(HostileInput, GarbageOnCallIsInvalidArgumentNamingMethodAndMessage) {
  grpc::Status status =
      GenericUnaryCall(Channel(), "/atomix.v1.Broker/Call", kGarbage, nullptr);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(Has(status, "atomix.v1.Broker/Call: the request is not a valid atomix.v1.Request"))
      << status.error_message();
  EXPECT_TRUE(Has(status, "11 bytes")) << status.error_message();
  // A valid request on the same method is still answered.
  std::string answer;
  status = GenericUnaryCall(Channel(), "/atomix.v1.Broker/Call", CounterAdd(9, "c"), &answer);
  EXPECT_TRUE(status.ok()) << status.error_message();
  v1::Response response;
  ASSERT_TRUE(response.ParseFromString(answer));
  EXPECT_EQ(response.id(), 9u);
  ExpectServed("after-call");
}

TEST_F(HostileInput, GarbageOnWatchIsInvalidArgumentNamingMethodAndMessage) {
  grpc::Status status =
      GenericStreamCall(Channel(), "/atomix.v1.Broker/Watch", {kGarbage});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(
      Has(status, "atomix.v1.Broker/Watch: the request is not a valid atomix.v1.WatchRequest"))
      << status.error_message();
  ExpectServed("after-watch");
}

TEST_F(HostileInput, GarbageOnStreamEndsItAfterEarlierAnswersNamingTheMessage) {
  StreamResult result = RawStream(
      Channel(), {Batch({CounterAdd(1, "s")}), Batch({CounterAdd(2, "s"), CounterAdd(3, "s")}),
                  kGarbage, Batch({CounterAdd(4, "s")})});
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << result.status.error_message();
  EXPECT_TRUE(Has(result.status,
                  "atomix.v1.Broker/Stream: message 3 of this stream is not a valid "
                  "atomix.v1.RequestBatch"))
      << result.status.error_message();
  std::set<uint64_t> answered;
  for (const v1::ResponseBatch& batch : result.batches) {
    for (const v1::Response& r : batch.responses()) {
      EXPECT_FALSE(r.has_error()) << r.ShortDebugString();
      answered.insert(r.id());
    }
  }
  // Both earlier batches are answered; the one after the garbage is not read.
  EXPECT_EQ(answered, (std::set<uint64_t>{1, 2, 3}));
  auto c = GetCounter(client(), "s");
  ASSERT_TRUE(c.ok()) << c.status();
  auto value = c->Get();
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 3);
}

TEST_F(HostileInput, GarbageAsTheFirstStreamMessageNamesMessageOne) {
  StreamResult result = RawStream(Channel(), {kGarbage});
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Has(result.status, "message 1 of this stream")) << result.status.error_message();
  ExpectServed("after-stream");
}

TEST_F(HostileInput, GarbageOnEachAdminUnaryMethod) {
  const std::vector<std::pair<std::string, std::string>> methods = {
      {"Status", "atomix.v1.StatusRequest"},
      {"ListSessions", "atomix.v1.ListSessionsRequest"},
      {"ListPrimitives", "atomix.v1.ListPrimitivesRequest"}};
  for (const auto& [method, type] : methods) {
    grpc::Status status =
        GenericUnaryCall(Channel(), "/atomix.v1.Admin/" + method, kGarbage, nullptr);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << method << ": " << status.error_message();
    EXPECT_TRUE(Has(status, "atomix.v1.Admin/" + method + ": the request is not a valid " + type))
        << status.error_message();
    // The empty message is a valid request and is answered.
    status = GenericUnaryCall(Channel(), "/atomix.v1.Admin/" + method, "", nullptr);
    EXPECT_TRUE(status.ok()) << method << ": " << status.error_message();
  }
  ExpectServed("after-admin");
}

TEST_F(HostileInput, GarbageOnAdminBackup) {
  grpc::Status status = GenericStreamCall(Channel(), "/atomix.v1.Admin/Backup", {kGarbage});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(
      Has(status, "atomix.v1.Admin/Backup: the request is not a valid atomix.v1.BackupRequest"))
      << status.error_message();
  // A valid request still gets a backup.
  status = GenericStreamCall(Channel(), "/atomix.v1.Admin/Backup", {""});
  EXPECT_TRUE(status.ok()) << status.error_message();
  ExpectServed("after-backup");
}

}  // namespace
}  // namespace atomix::testing
