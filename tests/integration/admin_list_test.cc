// The operators' calls against a real atomix-broker process, over the Admin
// gRPC stub: ListPrimitives shows a lock's holder with the exact fence the
// SDK got and a waiter in line; ListSessions shows the session holding it;
// page limits above 1000 are refused by name; Status says what the broker
// is and how much it serves.
#include <gtest/gtest.h>

#include <stdio.h>

#include <chrono>
#include <memory>
#include <string>

#include "atomix/v1/admin.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/test_client.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;

// What `atomix-broker --version` prints, without the newline.
std::string BrokerVersion() {
  FILE* out = popen(ATOMIX_BROKER_BIN " --version", "r");
  std::string text;
  char buf[256];
  while (out != nullptr && fgets(buf, sizeof(buf), out) != nullptr) text += buf;
  if (out != nullptr) pclose(out);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

class AdminListTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    stub_ = v1::Admin::NewStub(
        grpc::CreateChannel(broker().endpoint(), grpc::InsecureChannelCredentials()));
  }
  // The primitive `name` as ListPrimitives shows it (by prefix).
  v1::PrimitiveInfo Primitive(const std::string& name) {
    v1::ListPrimitivesRequest request;
    request.set_prefix(name);
    v1::ListPrimitivesResponse page;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    const grpc::Status status = stub_->ListPrimitives(&context, request, &page);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const v1::PrimitiveInfo& p : page.primitives()) {
      if (p.name() == name) return p;
    }
    return {};
  }

  std::unique_ptr<v1::Admin::Stub> stub_;
};

TEST_F(AdminListTest, ListsALockHolderWithItsFenceAndItsWaiter) {
  auto lock = GetLock(client(), "admin-db");
  ASSERT_TRUE(lock.ok()) << lock.status();
  auto fence = lock->Acquire(WithTimeout(seconds(10)));
  ASSERT_TRUE(fence.ok()) << fence.status();
  const uint64_t holder = client().session_id();
  ASSERT_NE(holder, 0u);

  // A second client waits in line.
  auto other = Client::Connect(OptionsFor(broker()));
  ASSERT_TRUE(other.ok()) << other.status();
  auto other_lock = GetLock(*other, "admin-db");
  ASSERT_TRUE(other_lock.ok());
  auto waiting = other_lock->AcquireAsync(WithTimeout(seconds(60)));
  ASSERT_TRUE(WaitUntil([&] { return other->session_id() != 0; }));
  const uint64_t waiter = other->session_id();
  ASSERT_NE(waiter, holder);
  ASSERT_TRUE(WaitUntil([&] { return Primitive("admin-db").waiters_size() == 1; }));

  const v1::PrimitiveInfo info = Primitive("admin-db");
  EXPECT_EQ(info.type(), v1::LOCK);
  EXPECT_EQ(info.summary(), "held by session " + std::to_string(holder) + " (fence " +
                                std::to_string(fence->version) + "), 1 waiting");
  ASSERT_EQ(info.holders_size(), 1);
  EXPECT_EQ(info.holders(0).name(), "admin-db");
  EXPECT_EQ(info.holders(0).type(), v1::LOCK);
  EXPECT_EQ(info.holders(0).session(), holder);
  EXPECT_EQ(info.holders(0).what(), "lock");
  EXPECT_EQ(info.holders(0).fence(), fence->version);
  ASSERT_EQ(info.waiters_size(), 1);
  EXPECT_EQ(info.waiters(0).session(), waiter);
  EXPECT_EQ(info.waiters(0).what(), "lock");
  EXPECT_EQ(info.waiters(0).fence(), 0);

  // The holder's session, with what it holds; the waiter's, waiting.
  v1::ListSessionsRequest request;
  v1::ListSessionsResponse sessions;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  const grpc::Status status = stub_->ListSessions(&context, request, &sessions);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(sessions.more());
  EXPECT_GE(sessions.revision(), fence->version);
  bool saw_holder = false, saw_waiter = false;
  for (const v1::SessionInfo& s : sessions.sessions()) {
    if (s.id() == holder) {
      saw_holder = true;
      EXPECT_EQ(s.ttl_ms(), 10000);
      EXPECT_GT(s.expires_in_ms(), 0);
      EXPECT_LE(s.expires_in_ms(), 10000);
      EXPECT_EQ(s.waiting(), 0u);
      ASSERT_EQ(s.holds_size(), 1);
      EXPECT_EQ(s.holds(0).name(), "admin-db");
      EXPECT_EQ(s.holds(0).type(), v1::LOCK);
      EXPECT_EQ(s.holds(0).session(), 0u);
      EXPECT_EQ(s.holds(0).what(), "lock");
      EXPECT_EQ(s.holds(0).fence(), fence->version);
    } else if (s.id() == waiter) {
      saw_waiter = true;
      EXPECT_EQ(s.waiting(), 1u);
      EXPECT_EQ(s.holds_size(), 0);
    }
  }
  EXPECT_TRUE(saw_holder);
  EXPECT_TRUE(saw_waiter);

  // Releasing hands the lock to the waiter, and the list follows.
  ASSERT_TRUE(lock->Release().ok());
  auto granted = waiting.get();
  ASSERT_TRUE(granted.ok()) << granted.status();
  const v1::PrimitiveInfo after = Primitive("admin-db");
  ASSERT_EQ(after.holders_size(), 1);
  EXPECT_EQ(after.holders(0).session(), waiter);
  EXPECT_EQ(after.holders(0).fence(), granted->version);
  EXPECT_EQ(after.waiters_size(), 0);
  ASSERT_TRUE(other_lock->Release().ok());
}

TEST_F(AdminListTest, ALimitAboveAThousandIsInvalidAndNamed) {
  v1::ListPrimitivesRequest primitives;
  primitives.set_limit(1001);
  v1::ListPrimitivesResponse primitive_page;
  grpc::ClientContext c1;
  grpc::Status status = stub_->ListPrimitives(&c1, primitives, &primitive_page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "limit 1001 is above the largest page, 1000");

  v1::ListSessionsRequest sessions;
  sessions.set_limit(1001);
  v1::ListSessionsResponse session_page;
  grpc::ClientContext c2;
  status = stub_->ListSessions(&c2, sessions, &session_page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "limit 1001 is above the largest page, 1000");
}

TEST_F(AdminListTest, StatusSaysWhatTheBrokerIsAndHowMuchItServes) {
  auto counter = GetCounter(client(), "admin-jobs");
  ASSERT_TRUE(counter.ok());
  ASSERT_TRUE(counter->Increment().ok());
  v1::StatusResponse out;
  grpc::ClientContext context;
  const grpc::Status status = stub_->Status(&context, v1::StatusRequest(), &out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(out.serving());
  EXPECT_EQ(out.store(), "memory");
  EXPECT_EQ(out.role(), "standalone");
  EXPECT_EQ(out.version(), BrokerVersion());
  EXPECT_GE(out.uptime_ms(), 0);
  EXPECT_GE(out.clients(), 1u);  // this test's client stream
  EXPECT_EQ(out.sessions(), 1u);
  EXPECT_EQ(out.primitives(), 1u);
  EXPECT_EQ(out.revision(), 1);
  EXPECT_FALSE(out.has_cluster());
}

}  // namespace
}  // namespace atomix::testing
