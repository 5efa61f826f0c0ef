// Bad input gets the documented status code and a message naming the
// problem, changes nothing, and never takes the broker down.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "grpcpp/grpcpp.h"
#include "tests/support/generic_call.h"
#include "tests/support/test_client.h"

namespace atomix::testing {
namespace {

class BadInput : public BrokerTest {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    BrokerProcess::Options o;
    o.args = {"--max-value-bytes", "1024"};
    return o;
  }
};

bool Mentions(const absl::Status& s, std::string_view what) {
  return s.message().find(absl::string_view(what.data(), what.size())) != absl::string_view::npos;
}

TEST_F(BadInput, Names) {
  EXPECT_EQ(GetCounter(client(), "").status().code(), absl::StatusCode::kInvalidArgument);
  auto long_name = GetCounter(client(), std::string(257, 'a'));
  EXPECT_EQ(long_name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(long_name.status(), "256")) << long_name.status();
  auto not_utf8 = GetCounter(client(), std::string("ab\xff\xfe", 4));
  EXPECT_EQ(not_utf8.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(not_utf8.status(), "UTF-8")) << not_utf8.status();
  EXPECT_TRUE(GetCounter(client(), std::string(256, 'a')).ok());
  EXPECT_TRUE(GetCounter(client(), "ünïcödé/ok").ok());
}

TEST_F(BadInput, NameBoundToAnotherType) {
  auto c = GetCounter(client(), "taken");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->Increment().ok());
  auto m = GetMap<std::string, std::string>(client(), "taken");
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Mentions(m.status(), "counter")) << m.status();
  EXPECT_TRUE(Mentions(m.status(), "map")) << m.status();
  EXPECT_EQ(*c->Get(), 1);
}

TEST_F(BadInput, OversizedValueIsRefusedAndChangesNothing) {
  auto m = GetMap<std::string, std::string>(client(), "sized");
  ASSERT_TRUE(m.ok());
  auto v1 = m->Put("k", "small");
  ASSERT_TRUE(v1.ok());
  auto big = m->Put("k", std::string(1025, 'x'));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(big.status(), "1024")) << big.status();
  auto now = m->Get("k");
  ASSERT_TRUE(now.ok() && now->has_value());
  EXPECT_EQ((*now)->value, "small");
  EXPECT_EQ((*now)->version, *v1);
  EXPECT_TRUE(m->Put("k", std::string(1024, 'x')).ok());  // exactly the limit is fine
}

TEST_F(BadInput, VersionMismatchCarriesTheCurrentVersion) {
  auto m = GetMap<std::string, std::string>(client(), "cas");
  ASSERT_TRUE(m.ok());
  auto v1 = m->Put("k", "a");
  ASSERT_TRUE(v1.ok());
  auto v2 = m->Put("k", "b");
  ASSERT_TRUE(v2.ok());
  auto stale = m->Update("k", "c", IfVersion(*v1));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(stale.status()), *v2);
  auto fresh = m->Update("k", "c", IfVersion(*v2));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_GT(*fresh, *v2);
}

TEST_F(BadInput, DecodeFailureNamesTheType) {
  auto text = GetValue<std::string>(client(), "typed");
  ASSERT_TRUE(text.ok());
  ASSERT_TRUE(text->Set("abc").ok());
  auto number = GetValue<int64_t>(client(), "typed");
  ASSERT_TRUE(number.ok());
  auto r = number->Get();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(r.status(), "int64")) << r.status();
}

// Writes raw bytes to the broker's TCP port.
void SendGarbage(int port, size_t n, uint32_t seed) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::mt19937 rng(seed);
  std::string junk(n, '\0');
  for (auto& ch : junk) ch = static_cast<char>(rng());
  if (seed % 2 == 0) junk.replace(0, 24, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");  // valid preface
  (void)!write(fd, junk.data(), junk.size());
  close(fd);
}

TEST_F(BadInput, BrokerSurvivesArbitraryBytesOnItsPort) {
  for (uint32_t seed = 0; seed < 20; ++seed) SendGarbage(broker().port(), 4096, seed);
  auto c = GetCounter(client(), "alive");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->Increment().ok());
  EXPECT_TRUE(broker().running());
}

TEST_F(BadInput, BrokerSurvivesMalformedMessages) {
  auto channel = grpc::CreateChannel(broker().endpoint(), grpc::InsecureChannelCredentials());
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    std::string junk(1 + rng() % 512, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    grpc::Status status = GenericUnaryCall(channel, "/atomix.v1.Broker/Call", junk, nullptr);
    // Whatever the bytes decode to, the answer is a status, never a crash.
    EXPECT_NE(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  }
  // The same on the stream: garbage batches end that stream with a status,
  // and the broker goes on serving everyone else.
  for (int i = 0; i < 20; ++i) {
    std::vector<std::string> batches;
    for (int j = 0; j < 3; ++j) {
      std::string junk(1 + rng() % 512, '\0');
      for (auto& ch : junk) ch = static_cast<char>(rng());
      batches.push_back(std::move(junk));
    }
    GenericStreamCall(channel, "/atomix.v1.Broker/Stream", batches);
  }
  auto c = GetCounter(client(), "still-alive");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->Increment().ok());
}

// A client cannot open more than --max-streams-per-connection watches on
// one connection: the next waits in the client's transport until its
// deadline, while other connections are unaffected, and it opens once one
// of the first closes.
class StreamLimit : public BrokerTest {
 protected:
  BrokerProcess::Options BrokerOptions() override {
    BrokerProcess::Options o;
    o.args = {"--max-streams-per-connection", "16"};
    return o;
  }
};

TEST_F(StreamLimit, WatchesPastTheLimitWaitAndOtherConnectionsGoOn) {
  auto map = GetMap<std::string, std::string>(client(), "m");
  ASSERT_TRUE(map.ok()) << map.status();
  std::vector<Channel<MapEvent<std::string, std::string>>> open;
  for (int i = 0; i < 16; ++i) {
    auto w = map->Watch(WithTimeout(std::chrono::seconds(10)));
    ASSERT_TRUE(w.ok()) << i << ": " << w.status();
    open.push_back(*std::move(w));
  }
  auto over = map->Watch(WithTimeout(std::chrono::milliseconds(500)));
  EXPECT_FALSE(over.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(over.status()) || absl::IsUnavailable(over.status()))
      << over.status();

  auto other = Client::Connect(OptionsFor(broker()));
  ASSERT_TRUE(other.ok()) << other.status();
  auto theirs = GetMap<std::string, std::string>(*other, "m");
  ASSERT_TRUE(theirs.ok());
  EXPECT_TRUE(theirs->Watch(WithTimeout(std::chrono::seconds(10))).ok());

  open.front().Close();
  open.erase(open.begin());
  auto later = map->Watch(WithTimeout(std::chrono::seconds(10)));
  EXPECT_TRUE(later.ok()) << later.status();
  EXPECT_TRUE(broker().running());
}

}  // namespace
}  // namespace atomix::testing
