// Broker.Watch on the real atomix-broker, spoken through the raw generated
// stub as any client would: the header comes first, live events arrive in
// revision order with exact revisions, resume from a revision, REPLAY /
// NEW_BROKER / COMPACTED snapshots, bad input status codes, SIGUSR2 and
// shutdown ending open watches, and a watcher that stops reading while a
// writer writes 200 MB: broker memory stays bounded, another watcher keeps
// up, and the slow one resumes with a COMPACTED snapshot.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "atomix/v1/broker.grpc.pb.h"
#include "broker-sim/src/state/registry.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/broker_process.h"

namespace atomix::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// The primitives whose watches take key filters, as the broker names them.
std::string KeyedWatches() {
  std::vector<std::string> names;
  for (const broker::PrimitiveSpec* p : broker::Primitives()) {
    if (p->key_filters) names.emplace_back(p->name);
  }
  return absl::StrJoin(names, ", ");
}

v1::Request MakeRequest(v1::PrimitiveType type, const std::string& name,
                        const std::string& op_text, uint64_t session = 0) {
  v1::Request request;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(op_text, &request))
      << op_text;
  request.set_type(type);
  request.set_name(name);
  request.set_session_id(session);
  return request;
}

v1::WatchRequest Watch(v1::PrimitiveType type, const std::string& name,
                       const std::string& text = "") {
  v1::WatchRequest request;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &request))
      << text;
  request.set_type(type);
  request.set_name(name);
  return request;
}

// The resident memory of process `pid`, in KiB (0 if unknown).
int64_t RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return 0;
}

// One Broker.Watch call read by a thread of its own into a queue. While
// paused, the thread stops calling Read, so the client's HTTP/2 flow control
// window fills and the broker can no longer write.
class WatchCall {
 public:
  WatchCall(v1::Broker::Stub& stub, const v1::WatchRequest& request,
            bool paused = false)
      : paused_(paused) {
    reader_ = stub.Watch(&context_, request);
    thread_ = std::thread([this] { Run(); });
  }
  ~WatchCall() {
    context_.TryCancel();
    Resume();
    thread_.join();
  }

  // The next message, or nullopt if the stream ended or nothing came within
  // `timeout`.
  std::optional<v1::WatchResponse> Next(milliseconds timeout = seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) return std::nullopt;
    v1::WatchResponse message = std::move(queue_.front());
    queue_.pop_front();
    return message;
  }

  // Waits for the stream to end and returns its status (DEADLINE_EXCEEDED
  // here if it did not end within `timeout`).
  grpc::Status Finish(milliseconds timeout = seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return done_; })) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "the watch did not end");
    }
    return status_;
  }

  void Pause() {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = true;
  }
  void Resume() {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = false;
    cv_.notify_all();
  }

 private:
  void Run() {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !paused_; });
      }
      v1::WatchResponse message;
      if (!reader_->Read(&message)) break;
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(message));
      cv_.notify_all();
    }
    grpc::Status status = reader_->Finish();
    std::lock_guard<std::mutex> lock(mu_);
    status_ = std::move(status);
    done_ = true;
    cv_.notify_all();
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::WatchResponse>> reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::WatchResponse> queue_;
  bool paused_ = false;
  bool done_ = false;
  grpc::Status status_;
  std::thread thread_;
};

class WatchProtocol : public ::testing::Test {
 protected:
  virtual BrokerProcess::Options BrokerOptions() { return {}; }

  void SetUp() override {
    auto broker = BrokerProcess::Start(BrokerOptions());
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel(
        broker_->endpoint(), grpc::InsecureChannelCredentials(), args);
    stub_ = v1::Broker::NewStub(channel_);
  }

  v1::Response Call(const v1::Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    v1::Response response;
    grpc::Status status = stub_->Call(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  int64_t Put(const std::string& name, const std::string& key,
              const std::string& value) {
    v1::Request request = MakeRequest(v1::MAP, name, "");
    v1::MapPut* put = request.mutable_map()->mutable_put();
    put->set_key(key);
    put->set_value(value);
    return Call(request).map().version();
  }
  uint64_t OpenSession() {
    v1::Request request;
    request.mutable_session()->mutable_open();
    return Call(request).session().session_id();
  }

  // Reads the header; fails the test if the first message is anything else.
  v1::WatchHeader Header(WatchCall& watch) {
    std::optional<v1::WatchResponse> first = watch.Next();
    EXPECT_TRUE(first.has_value())
        << watch.Finish(milliseconds(0)).error_message();
    if (!first) return {};
    EXPECT_TRUE(first->has_header()) << first->ShortDebugString();
    EXPECT_FALSE(first->has_snapshot());
    EXPECT_EQ(first->events_size(), 0);
    return first->header();
  }

  // The next `n` events, in order, across messages; fails on a snapshot.
  std::vector<v1::WatchEvent> Events(WatchCall& watch, size_t n) {
    std::vector<v1::WatchEvent> events;
    while (events.size() < n) {
      std::optional<v1::WatchResponse> message = watch.Next();
      if (!message) {
        ADD_FAILURE() << "got " << events.size() << " of " << n << " events";
        break;
      }
      EXPECT_FALSE(message->has_header());
      EXPECT_FALSE(message->has_snapshot()) << message->ShortDebugString();
      for (v1::WatchEvent& event : *message->mutable_events()) {
        events.push_back(std::move(event));
      }
    }
    EXPECT_EQ(events.size(), n);
    return events;
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Broker::Stub> stub_;
};

TEST_F(WatchProtocol, HeaderFirstThenLiveEventsInRevisionOrder) {
  Put("other", "x", "1");  // revision 1
  Put("m", "a", "0");      // 2
  WatchCall watch(*stub_, Watch(v1::MAP, "m"));
  v1::WatchHeader header = Header(watch);
  EXPECT_EQ(header.revision(), 2);
  EXPECT_EQ(header.broker_id().size(), 32u);
  EXPECT_EQ(Put("m", "a", "1"), 3);
  Put("other", "y", "2");  // 4: another map
  EXPECT_EQ(Put("m", "b", "2"), 5);
  Call(MakeRequest(v1::MAP, "m", R"pb(map { remove { key: "a" } })pb"));  // 6

  std::vector<v1::WatchEvent> events = Events(watch, 3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].ShortDebugString(),
            "type: UPDATED revision: 3 entry { key: \"a\" value: \"1\" "
            "version: 3 } previous { key: \"a\" value: \"0\" version: 2 }");
  EXPECT_EQ(events[1].ShortDebugString(),
            "type: INSERTED revision: 5 entry { key: \"b\" value: \"2\" "
            "version: 5 }");
  EXPECT_EQ(events[2].ShortDebugString(),
            "type: REMOVED revision: 6 previous { key: \"a\" value: \"1\" "
            "version: 3 }");
  // Nothing more.
  EXPECT_FALSE(watch.Next(milliseconds(300)).has_value());
}

TEST_F(WatchProtocol, MapRemovePrefixIsOneRevision) {
  Put("m", "p/1", "x");
  Put("m", "p/2", "y");
  Put("m", "q", "z");
  WatchCall watch(*stub_, Watch(v1::MAP, "m"));
  EXPECT_EQ(Header(watch).revision(), 3);
  v1::Response r = Call(MakeRequest(
      v1::MAP, "m", R"pb(map { remove_prefix { prefix: "p/" } })pb"));
  EXPECT_EQ(r.map().size(), 2);
  EXPECT_EQ(r.map().version(), 4);
  std::optional<v1::WatchResponse> message = watch.Next();
  ASSERT_TRUE(message.has_value());
  ASSERT_EQ(message->events_size(), 2);  // one message: one revision
  EXPECT_EQ(message->events(0).revision(), 4);
  EXPECT_EQ(message->events(0).previous().key(), "p/1");
  EXPECT_EQ(message->events(1).revision(), 4);
  EXPECT_EQ(message->events(1).previous().key(), "p/2");
}

TEST_F(WatchProtocol, EveryPrimitiveType) {
  const uint64_t session = OpenSession();
  ASSERT_NE(session, 0u);
  WatchCall counter(*stub_, Watch(v1::COUNTER, "c"));
  WatchCall value(*stub_, Watch(v1::VALUE, "v"));
  WatchCall set(*stub_, Watch(v1::SET, "s"));
  WatchCall lock(*stub_, Watch(v1::LOCK, "l"));
  WatchCall election(*stub_, Watch(v1::ELECTION, "e"));
  for (WatchCall* watch : {&counter, &value, &set, &lock, &election}) {
    EXPECT_EQ(Header(*watch).revision(), 0);
  }
  Call(MakeRequest(v1::COUNTER, "c", "counter { add { delta: 5 } }"));  // 1
  Call(
      MakeRequest(v1::VALUE, "v", R"pb(value { set { value: "x" } })pb"));  // 2
  Call(MakeRequest(v1::SET, "s", R"pb(set { add { element: "e" } })pb"));   // 3
  Call(MakeRequest(v1::LOCK, "l", "lock { acquire {} }", session));         // 4
  Call(MakeRequest(v1::ELECTION, "e",
                   R"pb(election { enter { candidate_id: "me" } })pb",
                   session));                                        // 5
  Call(MakeRequest(v1::LOCK, "l", "lock { release {} }", session));  // 6

  EXPECT_EQ(Events(counter, 1).at(0).ShortDebugString(),
            "type: UPDATED revision: 1 value: 5 counter { value: 5 }");
  EXPECT_EQ(Events(value, 1).at(0).ShortDebugString(),
            "type: INSERTED revision: 2 entry { value: \"x\" version: 2 }");
  EXPECT_EQ(Events(set, 1).at(0).ShortDebugString(),
            "type: INSERTED revision: 3 entry { key: \"e\" version: 3 }");
  std::vector<v1::WatchEvent> locks = Events(lock, 2);
  ASSERT_EQ(locks.size(), 2u);
  EXPECT_EQ(locks[0].type(), v1::WatchEvent::INSERTED);
  EXPECT_EQ(locks[0].revision(), 4);
  EXPECT_EQ(locks[0].lock().fence(), 4);
  EXPECT_EQ(locks[0].lock().session_id(), session);
  EXPECT_EQ(locks[0].holder().ShortDebugString(), locks[0].lock().ShortDebugString());
  EXPECT_EQ(locks[1].type(), v1::WatchEvent::REMOVED);
  EXPECT_EQ(locks[1].revision(), 6);
  EXPECT_EQ(locks[1].lock().fence(), 0);
  EXPECT_TRUE(locks[1].has_holder());
  EXPECT_EQ(Events(election, 1).at(0).ShortDebugString(),
            "type: INSERTED revision: 5 term { leader: \"me\" term: 5 "
            "candidates: \"me\" } elected { leader: \"me\" term: 5 "
            "candidates: \"me\" }");
}

TEST_F(WatchProtocol, KeyAndPrefixFilters) {
  WatchCall by_key(*stub_, Watch(v1::MAP, "m", R"pb(key: "b")pb"));
  WatchCall by_prefix(*stub_, Watch(v1::MAP, "m", R"pb(prefix: "a/")pb"));
  Header(by_key);
  Header(by_prefix);
  Put("m", "a/1", "x");  // 1
  Put("m", "b", "y");    // 2
  Put("m", "a/2", "z");  // 3
  Put("m", "bb", "w");   // 4
  std::vector<v1::WatchEvent> keyed = Events(by_key, 1);
  ASSERT_EQ(keyed.size(), 1u);
  EXPECT_EQ(keyed[0].revision(), 2);
  std::vector<v1::WatchEvent> prefixed = Events(by_prefix, 2);
  ASSERT_EQ(prefixed.size(), 2u);
  EXPECT_EQ(prefixed[0].revision(), 1);
  EXPECT_EQ(prefixed[1].revision(), 3);
  EXPECT_FALSE(by_key.Next(milliseconds(200)).has_value());
}

TEST_F(WatchProtocol, ResumesFromARevision) {
  for (int i = 1; i <= 5; ++i) Put("m", "k" + std::to_string(i), "v");
  std::string broker_id;
  {
    WatchCall first(*stub_, Watch(v1::MAP, "m"));
    broker_id = Header(first).broker_id();
  }
  // Same broker: every change at revision >= 3.
  WatchCall resumed(
      *stub_, Watch(v1::MAP, "m",
                    "start_revision: 3 broker_id: \"" + broker_id + "\""));
  EXPECT_EQ(Header(resumed).revision(), 5);
  std::vector<v1::WatchEvent> events = Events(resumed, 3);
  ASSERT_EQ(events.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(events[i].revision(), 3 + i);
  EXPECT_EQ(Put("m", "k6", "v"), 6);
  EXPECT_EQ(Events(resumed, 1).at(0).revision(), 6);

  // No broker id: trusted as this broker's.
  WatchCall anonymous(*stub_, Watch(v1::MAP, "m", "start_revision: 6"));
  Header(anonymous);
  EXPECT_EQ(Events(anonymous, 1).at(0).revision(), 6);

  // A future revision: nothing until then.
  WatchCall future(*stub_, Watch(v1::MAP, "m", "start_revision: 8"));
  Header(future);
  Put("m", "k7", "v");  // 7: before the start
  Put("m", "k8", "v");  // 8
  std::vector<v1::WatchEvent> later = Events(future, 1);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].revision(), 8);
  EXPECT_EQ(later[0].entry().key(), "k8");
}

TEST_F(WatchProtocol, ReplaySnapshotThenEvents) {
  Put("m", "b", "2");
  Put("m", "a", "1");
  WatchCall watch(*stub_,
                  Watch(v1::MAP, "m", "replay: true start_revision: 1"));
  EXPECT_EQ(Header(watch).revision(), 2);
  std::optional<v1::WatchResponse> snapshot = watch.Next();
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->snapshot().ShortDebugString(),
            "reason: REPLAY revision: 2 entries { key: \"a\" value: \"1\" "
            "version: 2 } entries { key: \"b\" value: \"2\" version: 1 }");
  EXPECT_EQ(Put("m", "c", "3"), 3);
  EXPECT_EQ(Events(watch, 1).at(0).revision(), 3);
}

TEST_F(WatchProtocol, LargeSnapshotComesInParts) {
  // 5 entries of 400 KB: about 1 MiB per part.
  for (int i = 0; i < 5; ++i) {
    Put("m", "k" + std::to_string(i), std::string(400 << 10, 'x'));
  }
  WatchCall watch(*stub_, Watch(v1::MAP, "m", "replay: true"));
  Header(watch);
  int entries = 0;
  int parts = 0;
  while (true) {
    std::optional<v1::WatchResponse> part = watch.Next();
    ASSERT_TRUE(part.has_value());
    ASSERT_TRUE(part->has_snapshot());
    EXPECT_EQ(part->snapshot().reason(), v1::WatchSnapshot::REPLAY);
    EXPECT_EQ(part->snapshot().revision(), 5);
    EXPECT_LE(part->ByteSizeLong(), (1u << 20) + (1u << 10));
    entries += part->snapshot().entries_size();
    ++parts;
    if (!part->snapshot().more()) break;
  }
  EXPECT_EQ(entries, 5);
  EXPECT_EQ(parts, 3);  // 2 + 2 + 1 entries
}

TEST_F(WatchProtocol, ForeignBrokerIdGetsANewBrokerSnapshot) {
  Put("m", "a", "1");
  WatchCall watch(*stub_, Watch(v1::MAP, "m", R"pb(start_revision: 1
                                                   broker_id: "gone")pb"));
  Header(watch);
  std::optional<v1::WatchResponse> snapshot = watch.Next();
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->snapshot().reason(), v1::WatchSnapshot::NEW_BROKER);
  EXPECT_EQ(snapshot->snapshot().revision(), 1);
  ASSERT_EQ(snapshot->snapshot().entries_size(), 1);
  EXPECT_FALSE(snapshot->snapshot().more());
  EXPECT_EQ(Put("m", "b", "2"), 2);
  EXPECT_EQ(Events(watch, 1).at(0).revision(), 2);
}

TEST_F(WatchProtocol, UnknownNameIsEmptyAndBindsNothing) {
  WatchCall watch(*stub_, Watch(v1::COUNTER, "fresh", "replay: true"));
  EXPECT_EQ(Header(watch).revision(), 0);
  std::optional<v1::WatchResponse> snapshot = watch.Next();
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->snapshot().ShortDebugString(), "reason: REPLAY counter { }");
  // The name is still free for any type.
  EXPECT_EQ(Put("fresh", "k", "v"), 1);
}

class WatchSmallHistory : public WatchProtocol {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    BrokerProcess::Options options;
    options.args = {"--watch-history", "5"};
    return options;
  }
};

TEST_F(WatchSmallHistory, ResumeBeforeTheHistoryGetsACompactedSnapshot) {
  for (int i = 1; i <= 10; ++i) Put("m", "k", std::to_string(i));
  // Revisions 6..10 are still held: plain events.
  {
    WatchCall held(*stub_, Watch(v1::MAP, "m", "start_revision: 6"));
    Header(held);
    std::vector<v1::WatchEvent> events = Events(held, 5);
    ASSERT_EQ(events.size(), 5u);
    EXPECT_EQ(events.front().revision(), 6);
    EXPECT_EQ(events.back().revision(), 10);
  }
  WatchCall watch(*stub_, Watch(v1::MAP, "m", "start_revision: 2"));
  EXPECT_EQ(Header(watch).revision(), 10);
  std::optional<v1::WatchResponse> snapshot = watch.Next();
  ASSERT_TRUE(snapshot.has_value());
  EXPECT_EQ(snapshot->snapshot().ShortDebugString(),
            "reason: COMPACTED revision: 10 entries { key: \"k\" value: "
            "\"10\" version: 10 }");
  EXPECT_EQ(Put("m", "k", "11"), 11);
  std::vector<v1::WatchEvent> events = Events(watch, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].revision(), 11);
  EXPECT_EQ(events[0].previous().version(), 10);
}

TEST_F(WatchProtocol, BadInputEndsTheCallBeforeTheHeader) {
  Call(MakeRequest(v1::COUNTER, "taken", "counter { add { delta: 1 } }"));
  struct Case {
    v1::WatchRequest request;
    grpc::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {Watch(v1::MAP, ""), grpc::StatusCode::INVALID_ARGUMENT, "name is empty"},
      {Watch(v1::MAP, std::string(257, 'n')),
       grpc::StatusCode::INVALID_ARGUMENT,
       "name is 257 bytes; the limit is 256"},
      {Watch(v1::MAP, std::string("a\xff", 2)),
       grpc::StatusCode::INVALID_ARGUMENT, "name is not valid UTF-8 at byte 1"},
      {Watch(v1::PRIMITIVE_TYPE_UNSPECIFIED, "m"),
       grpc::StatusCode::INVALID_ARGUMENT, "type is unspecified"},
      {Watch(static_cast<v1::PrimitiveType>(99), "m"),
       grpc::StatusCode::INVALID_ARGUMENT, "type 99 is unknown"},
      {Watch(v1::COUNTER, "c", R"pb(key: "k")pb"),
       grpc::StatusCode::INVALID_ARGUMENT,
       "key filters only watches of " + KeyedWatches() + "; type is COUNTER"},
      {Watch(v1::SET, "s", R"pb(prefix: "p")pb"),
       grpc::StatusCode::INVALID_ARGUMENT,
       "prefix filters only watches of " + KeyedWatches() + "; type is SET"},
      {Watch(v1::MAP, "m", R"pb(key: "k" prefix: "p")pb"),
       grpc::StatusCode::INVALID_ARGUMENT,
       "key and prefix are mutually exclusive"},
      {Watch(v1::MAP, "m", R"pb(key: "")pb"),
       grpc::StatusCode::INVALID_ARGUMENT, "key is empty"},
      {Watch(v1::MAP, "m", "key: \"" + std::string(4097, 'k') + "\""),
       grpc::StatusCode::INVALID_ARGUMENT,
       "key is 4097 bytes; the limit is 4096"},
      {Watch(v1::MAP, "m", "prefix: \"" + std::string(4097, 'k') + "\""),
       grpc::StatusCode::INVALID_ARGUMENT,
       "prefix is 4097 bytes; the limit is 4096"},
      {Watch(v1::MAP, "m", "start_revision: -1"),
       grpc::StatusCode::INVALID_ARGUMENT,
       "start_revision is -1; it must not be negative"},
      {Watch(v1::MAP, "taken"), grpc::StatusCode::FAILED_PRECONDITION,
       "\"taken\" is a counter, not a map"},
  };
  for (const Case& c : cases) {
    WatchCall watch(*stub_, c.request);
    EXPECT_FALSE(watch.Next().has_value()) << c.message;  // not even a header
    grpc::Status status = watch.Finish();
    EXPECT_EQ(status.error_code(), c.code) << c.message;
    EXPECT_EQ(status.error_message(), c.message);
  }
  // The broker is fine.
  EXPECT_EQ(Put("m", "k", "v"), 2);
}

TEST_F(WatchProtocol, Sigusr2ResetsOpenWatchesAndStreams) {
  WatchCall a(*stub_, Watch(v1::MAP, "m"));
  WatchCall b(*stub_, Watch(v1::COUNTER, "c", "replay: true"));
  Header(a);
  Header(b);
  ASSERT_TRUE(b.Next().has_value());  // the snapshot
  grpc::ClientContext stream_context;
  auto stream = stub_->Stream(&stream_context);
  v1::ResponseBatch info;
  ASSERT_TRUE(stream->Read(&info));
  ASSERT_TRUE(info.has_info());

  ASSERT_EQ(kill(broker_->pid(), SIGUSR2), 0);
  EXPECT_EQ(a.Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(b.Finish().error_code(), grpc::StatusCode::CANCELLED);
  v1::ResponseBatch more;
  EXPECT_FALSE(stream->Read(&more));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // New calls work, and the broker kept its state.
  WatchCall again(*stub_, Watch(v1::MAP, "m"));
  EXPECT_EQ(Header(again).revision(), 0);
  EXPECT_EQ(Put("m", "k", "v"), 1);
  EXPECT_EQ(Events(again, 1).at(0).revision(), 1);
  EXPECT_EQ(broker_->Stop(), 0);
}

TEST_F(WatchProtocol, ShutdownEndsWatchesAtOnce) {
  WatchCall watch(*stub_, Watch(v1::MAP, "m"));
  Header(watch);
  const auto start = Clock::now();
  ASSERT_EQ(kill(broker_->pid(), SIGTERM), 0);
  // The broker ends the watch itself, well inside the 2 s grace that other
  // calls in flight get.
  grpc::Status status = watch.Finish(milliseconds(1500));
  EXPECT_LT(Clock::now() - start, milliseconds(1500));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "the broker is shutting down");
  const int wait_status = broker_->Kill(0);  // reaps it
  EXPECT_TRUE(WIFEXITED(wait_status)) << wait_status;
  EXPECT_EQ(WEXITSTATUS(wait_status), 0);
}

// A watcher that stops reading costs the broker one message: while 200 MB of
// values are written, the broker's memory grows by less than the history
// bound (64 MiB by default) plus transport buffers and allocator slack (150
// MB in all; without the bound it would hold every event, about 400 MB, as
// each event carries the value before and after), another watcher of the
// same map keeps up, and the slow one, once it reads again, gets a
// COMPACTED snapshot and then live events.
class WatchSlowConsumer : public WatchProtocol {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    ShrinkSanitizerQuarantineOfChildren();
    return {};
  }
};

TEST_F(WatchSlowConsumer, SlowWatcherNeitherGrowsMemoryNorDelaysOthers) {
  constexpr int kWrites = 2000;
  const std::string value(100 << 10, 'v');  // 2000 x 100 KiB = 200 MiB
  Put("m", "k", value);                     // revision 1
  WatchCall slow(*stub_, Watch(v1::MAP, "m"));
  WatchCall fast(*stub_, Watch(v1::MAP, "m"));
  ASSERT_EQ(Header(slow).revision(), 1);
  ASSERT_EQ(Header(fast).revision(), 1);
  slow.Pause();

  // The fast watcher is read by its own thread, which records the last
  // revision seen and any snapshot.
  std::atomic<int64_t> fast_last{1};
  std::atomic<int> fast_snapshots{0};
  std::atomic<bool> fast_in_order{true};
  std::atomic<bool> stop{false};
  std::thread fast_reader([&] {
    while (!stop.load() && fast_last.load() < kWrites + 1) {
      std::optional<v1::WatchResponse> message = fast.Next(milliseconds(100));
      if (!message) {  // nothing yet, or the stream ended: poll
        std::this_thread::sleep_for(milliseconds(1));
        continue;
      }
      if (message->has_snapshot()) fast_snapshots.fetch_add(1);
      for (const v1::WatchEvent& event : message->events()) {
        if (event.revision() != fast_last.load() + 1) fast_in_order = false;
        fast_last = event.revision();
      }
    }
  });
  // Stops and joins the reader on every way out of the test.
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } joiner{stop, fast_reader};

  const int64_t rss_before = RssKiB(broker_->pid());
  ASSERT_GT(rss_before, 0);
  int64_t rss_max = rss_before;
  int64_t max_lag = 0;
  for (int i = 0; i < kWrites; ++i) {
    const int64_t revision = Put("m", "k", value);
    ASSERT_EQ(revision, i + 2);
    max_lag = std::max(max_lag, revision - fast_last.load());
    if (i % 50 == 0) rss_max = std::max(rss_max, RssKiB(broker_->pid()));
    // The writer waits for the fast watcher if it falls 100 revisions (20
    // MB) behind, well inside the history (about 320 of these revisions),
    // so that a busy machine cannot push it into a COMPACTED snapshot. A
    // fast watcher held up by the slow one would stall the writer here.
    const auto stall = Clock::now() + seconds(10);
    while (revision - fast_last.load() > 100) {
      ASSERT_LT(Clock::now(), stall)
          << "the fast watcher is stuck at revision " << fast_last.load();
      std::this_thread::sleep_for(milliseconds(1));
    }
  }
  rss_max = std::max(rss_max, RssKiB(broker_->pid()));
  const auto deadline = Clock::now() + seconds(10);
  while (fast_last.load() < kWrites + 1 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  stop = true;
  fast_reader.join();
  EXPECT_EQ(fast_last.load(), kWrites + 1);
  EXPECT_TRUE(fast_in_order.load());
  EXPECT_EQ(fast_snapshots.load(), 0);
  const int64_t growth_mb = (rss_max - rss_before) / 1024;
  std::printf(
      "broker RSS %lld -> max %lld KiB (+%lld MB); fast watcher lag "
      "at most %lld revisions\n",
      static_cast<long long>(rss_before), static_cast<long long>(rss_max),
      static_cast<long long>(growth_mb), static_cast<long long>(max_lag));
  EXPECT_LT(growth_mb, 150);

  // The slow watcher reads again: whatever was already on its way, then a
  // COMPACTED snapshot, then the events after it, up to the end. (On a busy
  // machine its in-flight message may have been taken by the transport
  // during the writes, so it may also have been compacted more than once;
  // every snapshot is followed by the revisions right after it.)
  slow.Resume();
  int64_t last = 1;
  int snapshots = 0;
  while (last < kWrites + 1) {
    std::optional<v1::WatchResponse> message = slow.Next();
    ASSERT_TRUE(message.has_value()) << "stuck at revision " << last;
    if (message->has_snapshot()) {
      const v1::WatchSnapshot& snapshot = message->snapshot();
      EXPECT_EQ(snapshot.reason(), v1::WatchSnapshot::COMPACTED);
      EXPECT_GT(snapshot.revision(), last);
      EXPECT_LE(snapshot.revision(), kWrites + 1);
      ASSERT_EQ(snapshot.entries_size(), 1);
      EXPECT_EQ(snapshot.entries(0).version(), snapshot.revision());
      EXPECT_FALSE(snapshot.more());
      last = snapshot.revision();
      ++snapshots;
    }
    for (const v1::WatchEvent& event : message->events()) {
      EXPECT_EQ(event.revision(), last + 1);
      last = event.revision();
    }
  }
  EXPECT_GE(snapshots, 1);
  EXPECT_EQ(Put("m", "k", "live"), kWrites + 2);
  std::vector<v1::WatchEvent> live = Events(slow, 1);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].revision(), kWrites + 2);
  EXPECT_EQ(live[0].entry().value(), "live");
  // A clean exit with both watches open (under sanitizers: no leak, no
  // use after free).
  EXPECT_EQ(broker_->Stop(), 0);
}

}  // namespace
}  // namespace atomix::testing
