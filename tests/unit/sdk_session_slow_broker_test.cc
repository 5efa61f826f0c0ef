// Session requests against a broker that answers every one of them late
// (300 ms, as a broker busy fanning out watch events may): opening the
// session and each keep-alive wait for their answer until their own deadline
// (the handshake timeout, session_ttl / 3), so the session opens and is
// kept alive. A session request is written again only when its answer is
// more than 500 ms late (it may have been lost), so none is written twice
// here.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "atomix/client.h"
#include "atomix/session.h"
#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sdk/src/stream_transport.h"

namespace atomix::internal {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kAnswerDelay(300);

// Broker.Stream that greets, then answers each batch `kAnswerDelay` after it
// arrives: session opens and keep-alives with a session, anything else with
// an empty response.
class SlowBroker final : public v1::Broker::Service {
 public:
  SlowBroker() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~SlowBroker() override {
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  int opens() const { return opens_.load(); }
  int keep_alives() const { return keep_alives_.load(); }

  grpc::Status Stream(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::ResponseBatch, v1::RequestBatch>* stream) override {
    v1::ResponseBatch hello;
    hello.mutable_info()->set_broker_id("slow");
    if (!stream->Write(hello)) return grpc::Status::OK;
    v1::RequestBatch batch;
    while (stream->Read(&batch)) {
      std::this_thread::sleep_for(kAnswerDelay);
      v1::ResponseBatch out;
      for (const v1::Request& r : batch.requests()) {
        v1::Response* response = out.add_responses();
        response->set_id(r.id());
        if (!r.has_session()) continue;
        if (r.session().has_open()) {
          ++opens_;
          response->mutable_session()->set_session_id(7);
          response->mutable_session()->set_ttl_ms(r.session().open().ttl_ms());
        } else {
          if (r.session().has_keep_alive()) ++keep_alives_;
          response->mutable_session()->set_session_id(r.session_id());
        }
      }
      if (!stream->Write(out)) break;
    }
    return grpc::Status::OK;
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<int> opens_{0};
  std::atomic<int> keep_alives_{0};
};

TEST(SessionSlowBroker, OpensAndStaysAliveWhenEveryAnswerTakes300Ms) {
  SlowBroker broker;
  ClientOptions o;
  o.endpoints = {broker.endpoint()};
  o.session_ttl = seconds(3);  // A keep-alive every second, each waiting up to 1 s.
  StreamCore core(o);
  ASSERT_TRUE(core.WaitConnected(std::chrono::steady_clock::now() + seconds(20)).ok());
  EXPECT_EQ(core.session_id(), 7u);
  EXPECT_EQ(broker.opens(), 1);

  // Three TTLs: with keep-alives that gave up before their answer, the
  // client's lease would run out and the session would be lost.
  std::this_thread::sleep_for(seconds(9));
  EXPECT_EQ(core.session_state(), SessionState::kConnected);
  EXPECT_EQ(core.session_id(), 7u);
  EXPECT_EQ(broker.opens(), 1);
  // One keep-alive about every second (at most one in flight at a time):
  // none was abandoned and retried 100 ms later.
  EXPECT_GE(broker.keep_alives(), 4);
  EXPECT_LE(broker.keep_alives(), 12);
}

}  // namespace
}  // namespace atomix::internal
