// Helpers shared by integration tests: a broker process plus a client
// connected to it.
//
// Thread-safety: one thread sets up a fixture; the Client it hands out is
// thread-safe.
#ifndef ATOMIX_TESTS_SUPPORT_TEST_CLIENT_H_
#define ATOMIX_TESTS_SUPPORT_TEST_CLIENT_H_

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>

#include "atomix/atomix.h"
#include "tests/support/broker_process.h"

namespace atomix::testing {

// Monotonic nanoseconds, for histories.
inline int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline ClientOptions OptionsFor(const BrokerProcess& broker) {
  ClientOptions o;
  o.endpoints = {broker.endpoint()};
  o.connect_timeout = std::chrono::seconds(10);
  o.default_call_timeout = std::chrono::seconds(10);
  return o;
}

// Starts one broker per test and connects a client to it.
class BrokerTest : public ::testing::Test {
 protected:
  virtual BrokerProcess::Options BrokerOptions() { return BrokerProcess::Options(); }

  void SetUp() override {
    auto b = BrokerProcess::Start(BrokerOptions());
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(*b);
    auto c = Client::Connect(OptionsFor(*broker_));
    ASSERT_TRUE(c.ok()) << c.status();
    client_.emplace(*c);
  }

  Client& client() { return *client_; }
  BrokerProcess& broker() { return *broker_; }

  std::unique_ptr<BrokerProcess> broker_;
  std::optional<Client> client_;
};

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_TEST_CLIENT_H_
