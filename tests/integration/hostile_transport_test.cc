// Transport-level attacks on the real broker, each with the broker's peak
// resident memory (VmHWM) held under a stated bound and a normal client
// served meanwhile: a gzip "bomb" (200 MB of zeros compressed to ~200 KB),
// a flood of Stream calls opened and cancelled at once from many threads,
// clients that send big-answer batches and never read, and the
// --max-watches-per-client limit at its exact boundary.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/generic_call.h"
#include "tests/support/proc_memory.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;

bool Has(const grpc::Status& status, const std::string& text) {
  return status.error_message().find(text) != std::string::npos;
}

// A channel on a connection of its own (gRPC shares one connection between
// channels with equal arguments).
std::shared_ptr<grpc::Channel> OwnConnection(const std::string& endpoint, int n) {
  grpc::ChannelArguments args;
  args.SetInt("atomix.test.connection", n);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

class HostileTransport : public BrokerTest {
 public:
  void ExpectServed(const std::string& name) {
    auto c = GetCounter(client(), name);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(c->Increment().ok());
    EXPECT_TRUE(broker().running());
  }

 protected:
  int64_t PeakMiB() { return testing::PeakMiB(broker().pid()); }
};

// A valid Request whose name is 200 MB of zeros: gzip makes it ~200 KB on
// the wire, well under the 64 MiB message limit. The broker never inflates
// it: the call fails with a status that says so, and memory stays small.
TEST_F(HostileTransport, CompressedBombIsRefusedWithoutInflating) {
  ExpectServed("before");
  const int64_t before = PeakMiB();
  v1::Request bomb;
  bomb.set_id(1);
  bomb.set_type(v1::COUNTER);
  bomb.set_name(std::string(200 << 20, '\0'));
  bomb.mutable_counter()->mutable_get();
  std::string bytes = bomb.SerializeAsString();
  bomb.Clear();
  auto channel = OwnConnection(broker().endpoint(), 1);
  grpc::GenericStub stub(channel);
  for (int i = 0; i < 3; ++i) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext ctx;
    ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(60));
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&ctx, "/atomix.v1.Broker/Call", grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     std::lock_guard<std::mutex> l(mu);
                     status = std::move(s);
                     done = true;
                     cv.notify_one();
                   });
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return done; });
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
    std::printf("compressed 200 MB message: %d %s\n", status.error_code(),
                status.error_message().c_str());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(Has(status, "atomix.v1.Broker/Call: the request is not a valid "
                            "atomix.v1.Request: its "))
        << status.error_message();
  }
  const int64_t after = PeakMiB();
  std::printf("broker VmHWM: %lld MiB before, %lld MiB after three bombs\n",
              static_cast<long long>(before), static_cast<long long>(after));
  EXPECT_LT(after, 150 + testing::kSanitizerSlackMiB) << "the broker inflated the message";
  ExpectServed("after");
}

// Many threads open Stream calls and cancel them at once, as fast as they
// can, for a bounded number of calls: memory stays bounded and a normal
// client is served meanwhile.
TEST_F(HostileTransport, StreamResetFloodKeepsMemoryBounded) {
  ExpectServed("before");
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 4000;
  std::atomic<int> opened{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto channel = OwnConnection(broker().endpoint(), 100 + t % 2);
      grpc::GenericStub stub(channel);
      grpc::CompletionQueue cq;
      for (int i = 0; i < kCallsPerThread; ++i) {
        grpc::ClientContext ctx;
        auto call = stub.PrepareCall(&ctx, "/atomix.v1.Broker/Stream", &cq);
        call->StartCall(reinterpret_cast<void*>(1));
        ctx.TryCancel();
        grpc::Status status;
        call->Finish(&status, reinterpret_cast<void*>(2));
        void* tag;
        bool ok;
        for (int seen = 0; seen < 2 && cq.Next(&tag, &ok);) ++seen;
        opened.fetch_add(1);
      }
      cq.Shutdown();
      void* tag;
      bool ok;
      while (cq.Next(&tag, &ok)) {
      }
    });
  }
  // A normal client meanwhile.
  int served = 0;
  while (opened.load() < kThreads * kCallsPerThread && served < 200) {
    auto c = GetCounter(client(), "meanwhile");
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_TRUE(c->Increment().ok());
    ++served;
  }
  for (auto& t : threads) t.join();
  const int64_t peak = PeakMiB();
  std::printf("%d streams opened and cancelled by %d threads; %d increments served "
              "meanwhile; broker VmHWM %lld MiB\n",
              opened.load(), kThreads, served, static_cast<long long>(peak));
  EXPECT_LT(peak, 300 + testing::kSanitizerSlackMiB);
  ExpectServed("after");
}

// A client that opens Stream calls and holds them open: each costs the
// broker some transport and reactor memory, and one connection gets at most
// --max-streams-per-connection of them at once (the rest wait in the
// client's transport), so the cost per connection is bounded.
TEST_F(HostileTransport, HeldStreamsAreCappedPerConnection) {
  ExpectServed("before");
  const int64_t before = PeakMiB();
  constexpr int kCalls = 3000;
  auto channel = OwnConnection(broker().endpoint(), 7);
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::GenericClientAsyncReaderWriter>> calls;
  std::vector<grpc::Status> statuses(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    calls.push_back(stub.PrepareCall(contexts.back().get(), "/atomix.v1.Broker/Stream", &cq));
    calls.back()->StartCall(nullptr);
  }
  // Let the broker open what it admits (this bounds memory, it measures no
  // speed); a normal client on its own connection is served meanwhile.
  std::this_thread::sleep_for(seconds(3));
  ExpectServed("meanwhile");
  const int64_t peak = PeakMiB();
  std::printf("%d Stream calls held on one connection; broker VmHWM %lld MiB before, "
              "%lld MiB after\n",
              kCalls, static_cast<long long>(before), static_cast<long long>(peak));
  EXPECT_LT(peak - before, 200 + testing::kSanitizerSlackMiB);
  for (int i = 0; i < kCalls; ++i) {
    contexts[i]->TryCancel();
    calls[i]->Finish(&statuses[i], nullptr);
  }
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  ExpectServed("after");
}

// Clients that send batches with ~4 MB answers on many streams and never
// read: each stream stops being read once its answers waiting to be written
// pass --max-stream-queued-mb, so the broker pins at most about that much
// (plus a batch being written) per stream.
// Sends the batches on 16 streams that never read; returns how much the
// broker's peak memory grew, in MiB.
int64_t NeverReadingStreams(HostileTransport& test, BrokerProcess& broker) {
  // A value of ~0.95 MB; 4 gets of it answer ~3.8 MB, under the 4 MB split.
  {
    v1::Request set;
    set.set_id(1);
    set.set_type(v1::VALUE);
    set.set_name("big");
    set.mutable_value()->mutable_set()->set_value(std::string(950 << 10, 'x'));
    auto channel = OwnConnection(broker.endpoint(), 1);
    grpc::Status status = GenericUnaryCall(channel, "/atomix.v1.Broker/Call",
                                           set.SerializeAsString(), nullptr);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  v1::RequestBatch gets;
  for (int i = 0; i < 4; ++i) {
    v1::Request* get = gets.add_requests();
    get->set_id(10 + i);
    get->set_type(v1::VALUE);
    get->set_name("big");
    get->mutable_value()->mutable_get();
  }
  const std::string batch = gets.SerializeAsString();
  {
    std::string answer;
    grpc::Status status = GenericUnaryCall(OwnConnection(broker.endpoint(), 1),
                                           "/atomix.v1.Broker/Call",
                                           gets.requests(0).SerializeAsString(), &answer);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_GT(answer.size(), 950u << 10);
  }
  const int64_t before = PeakMiB(broker.pid());

  constexpr int kStreams = 16;
  constexpr int kBatches = 40;
  auto channel = OwnConnection(broker.endpoint(), 2);
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::GenericClientAsyncReaderWriter>> calls;
  // One operation in flight at a time; a write that is not taken within
  // 2 s means the broker stopped reading that stream.
  auto await = [&cq](std::chrono::seconds limit) {
    void* tag = nullptr;
    bool ok = false;
    auto status = cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + limit);
    return status == grpc::CompletionQueue::GOT_EVENT && ok;
  };
  int written = 0;
  for (int s = 0; s < kStreams; ++s) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    calls.push_back(stub.PrepareCall(contexts.back().get(), "/atomix.v1.Broker/Stream", &cq));
    calls.back()->StartCall(nullptr);
    if (!await(seconds(10))) break;
    for (int b = 0; b < kBatches; ++b) {
      grpc::Slice slice(batch);
      grpc::ByteBuffer buf(&slice, 1);
      calls.back()->Write(buf, nullptr);
      if (!await(seconds(2))) break;  // the broker stopped reading it
      ++written;
    }
  }
  // The broker reads and answers them on its own time; give it that time
  // (this bounds memory, it measures no speed).
  std::this_thread::sleep_for(seconds(5));
  const int64_t peak = PeakMiB(broker.pid());
  std::printf("%d batches (~3.8 MB of answers each) written on %d streams that never read; "
              "broker VmHWM %lld MiB before, %lld MiB after\n",
              written, kStreams, static_cast<long long>(before), static_cast<long long>(peak));
  // A normal client is served while they hang.
  test.ExpectServed("meanwhile");
  for (auto& c : contexts) c->TryCancel();
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  test.ExpectServed("after");
  return peak - before;
}

TEST_F(HostileTransport, StreamsThatNeverReadPinBoundedMemory) {
  // Per stream at most --max-stream-queued-mb (8) of queued answers, plus
  // the batch that passed it and the one being written: ~16 MB.
  EXPECT_LT(NeverReadingStreams(*this, broker()), 16 * 20 + testing::kSanitizerSlackMiB);
}

class TotalQueueLimit : public HostileTransport {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    BrokerProcess::Options o;
    o.args = {"--max-stream-queued-total-mb", "32"};
    return o;
  }
};

// With a total of 32 MB, streams past it stop after one batch each.
TEST_F(TotalQueueLimit, StreamsThatNeverReadPinBoundedMemoryInTotal) {
  // ~32 MB queued by the first streams, then ~4 MB for each of the others
  // (a stream with nothing waiting reads one batch), plus writes in flight.
  EXPECT_LT(NeverReadingStreams(*this, broker()), 160 + testing::kSanitizerSlackMiB);
}

class WatchLimit : public HostileTransport {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    BrokerProcess::Options o;
    o.args = {"--max-watches-per-client", "3"};
    return o;
  }
};

// Opens a Watch on "w" and reads its header; the call stays open.
struct OpenWatch {
  std::unique_ptr<grpc::ClientContext> ctx = std::make_unique<grpc::ClientContext>();
  std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> reader;
  grpc::Status status;  // when it could not open

  bool Open(v1::Broker::Stub& stub) {
    ctx->set_deadline(std::chrono::system_clock::now() + seconds(30));
    v1::WatchRequest request;
    request.set_type(v1::MAP);
    request.set_name("w");
    reader = stub.Watch(ctx.get(), request);
    v1::WatchResponse header;
    if (reader->Read(&header) && header.has_header()) return true;
    status = reader->Finish();
    return false;
  }
  void Close() {
    ctx->TryCancel();
    v1::WatchResponse ignored;
    while (reader->Read(&ignored)) {
    }
    reader->Finish();
  }
};

TEST_F(WatchLimit, FourthWatchOfOneClientIsRefusedAndFreedWhenOneEnds) {
  auto mine = OwnConnection(broker().endpoint(), 1);
  auto stub = v1::Broker::NewStub(mine);
  std::vector<OpenWatch> open(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(open[i].Open(*stub)) << i << ": "
                                                               << open[i].status.error_message();
  OpenWatch fourth;
  ASSERT_FALSE(fourth.Open(*stub));
  EXPECT_EQ(fourth.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << fourth.status.error_message();
  EXPECT_TRUE(Has(fourth.status, "--max-watches-per-client")) << fourth.status.error_message();
  EXPECT_TRUE(Has(fourth.status, "already has 3 open watches")) << fourth.status.error_message();

  // Another client (connection) has its own count.
  auto theirs = v1::Broker::NewStub(OwnConnection(broker().endpoint(), 2));
  OpenWatch other;
  EXPECT_TRUE(other.Open(*theirs)) << other.status.error_message();

  // Ending one frees its place.
  open.front().Close();
  OpenWatch again;
  bool reopened = false;
  for (int i = 0; i < 100 && !reopened; ++i) {  // the end reaches the broker asynchronously
    again = OpenWatch();
    reopened = again.Open(*stub);
    if (!reopened) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(reopened) << again.status.error_message();
  ExpectServed("meanwhile");
  for (size_t i = 1; i < open.size(); ++i) open[i].Close();
  other.Close();
  if (reopened) again.Close();
}

}  // namespace
}  // namespace atomix::testing
