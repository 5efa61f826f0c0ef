// Client handles: Connect, Create, the default client.
#include <chrono>
#include <cstdlib>
#include <string>

#include "atomix/client.h"
#include "gtest/gtest.h"
#include "sdk/src/client_core.h"
#include "tests/unit/sdk_fake_broker.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using testing::AddRequest;
using testing::FakeBroker;

TEST(Client, ConnectReportsTheConnection) {
  FakeBroker broker("b1");
  ClientOptions o;
  o.endpoints = {broker.endpoint()};
  absl::StatusOr<Client> c = Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->connected_endpoint(), broker.endpoint());
  EXPECT_EQ(c->broker_id(), "b1");
  EXPECT_EQ(c->options().endpoints, std::vector<std::string>{broker.endpoint()});
  Client copy = *c;
  EXPECT_EQ(internal_core(copy), internal_core(*c));
  auto r = internal_core(copy)->Call(AddRequest(3), {}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counter().value(), 3);
}

TEST(Client, ConnectFailsNamingTheEndpoints) {
  const std::string a = "127.0.0.1:" + std::to_string(testing::UnusedPort());
  const std::string b = "127.0.0.1:" + std::to_string(testing::UnusedPort());
  for (auto transport : {ClientOptions::Transport::kStream, ClientOptions::Transport::kUnary}) {
    ClientOptions o;
    o.endpoints = {a, b};
    o.connect_timeout = milliseconds(300);
    o.transport = transport;
    absl::StatusOr<Client> c = Client::Connect(o);
    ASSERT_TRUE(absl::IsUnavailable(c.status())) << c.status();
    EXPECT_NE(c.status().message().find(a), absl::string_view::npos) << c.status();
    EXPECT_NE(c.status().message().find(b), absl::string_view::npos) << c.status();
  }
}

TEST(Client, ConnectUsesTheSecondEndpointWhenTheFirstIsDown) {
  FakeBroker broker("b2");
  ClientOptions o;
  o.endpoints = {"127.0.0.1:" + std::to_string(testing::UnusedPort()), broker.endpoint()};
  absl::StatusOr<Client> c = Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->connected_endpoint(), broker.endpoint());
}

TEST(Client, CreateConnectsInTheBackground) {
  FakeBroker broker("b1");
  ClientOptions o;
  o.endpoints = {broker.endpoint()};
  Client c = Client::Create(o);
  auto r = internal_core(c)->Call(AddRequest(9), {}, true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(c.broker_id(), "b1");
}

TEST(Client, UnaryTransport) {
  FakeBroker broker("b1");
  ClientOptions o;
  o.endpoints = {broker.endpoint()};
  o.transport = ClientOptions::Transport::kUnary;
  absl::StatusOr<Client> c = Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status();
  auto r = internal_core(*c)->Call(AddRequest(4), {}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->counter().value(), 4);
}

TEST(Client, DefaultClientReadsTheEnvironmentOnce) {
  // The default client lives as long as the process, and so does its broker.
  static FakeBroker& broker = *new FakeBroker("default");
  setenv("ATOMIX_BROKER", (" " + broker.endpoint() + " ,").c_str(), 1);
  Client a = DefaultClient();
  Client b = DefaultClient();
  EXPECT_EQ(internal_core(a), internal_core(b));
  EXPECT_EQ(a.options().endpoints, std::vector<std::string>{broker.endpoint()});
  auto r = internal_core(a)->Call(AddRequest(1), {}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(a.broker_id(), "default");
}

}  // namespace
}  // namespace atomix
