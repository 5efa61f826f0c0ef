// Access control against a real atomix-broker started with --acl-policy:
// a write outside the caller's namespace is refused with PERMISSION_DENIED
// naming principal, right and name, and changes nothing; reads are allowed;
// a watch of a name the caller may not read is refused; the Admin listings
// need admin while Status does not; SIGHUP puts a new policy file in force,
// and a broken one is logged and leaves the old policy in force; a broken
// policy file at start stops the broker with exit status 2 naming file and
// line.
//
// Who the calls are comes from one place (kPrincipal and Channel below):
// today every call is anonymous; with credentials, only those two change.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "atomix/v1/admin.grpc.pb.h"
#include "atomix/v1/broker.grpc.pb.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/broker_process.h"
#include "tests/support/process.h"
#include "tests/support/wait_until.h"

namespace atomix::testing {
namespace {

using std::chrono::seconds;

// The principal the test's calls act as ("": anonymous).
constexpr char kPrincipal[] = "";

// A channel whose calls authenticate as kPrincipal.
std::shared_ptr<grpc::Channel> Channel(const BrokerProcess& broker) {
  return grpc::CreateChannel(broker.endpoint(), grpc::InsecureChannelCredentials());
}

// How refusals name kPrincipal.
std::string PrincipalInMessages() {
  return std::string(kPrincipal).empty() ? "principal \"\" (anonymous)"
                                         : absl::StrCat("principal \"", kPrincipal, "\"");
}

// The policy-file lines that give kPrincipal `roles` (a TOML array). The
// top-level `anonymous` key must come before any table.
std::string GiveTestPrincipal(const std::string& roles) {
  return std::string(kPrincipal).empty()
             ? absl::StrCat("anonymous = ", roles, "\n")
             : absl::StrCat("[principals]\n\"", kPrincipal, "\" = ", roles, "\n");
}

// kPrincipal reads everything and writes and locks under app/.
std::string AppPolicy(const std::string& extra_write = "") {
  std::string policy = absl::StrCat(
      "[roles.app]\nread = [\"*\"]\nwrite = [\"app/\"", extra_write,
      "]\nlock = [\"app/\"]\n\n");
  // A table-free key cannot follow a table: put the anonymous key first.
  return std::string(kPrincipal).empty() ? GiveTestPrincipal("[\"app\"]") + policy
                                         : policy + GiveTestPrincipal("[\"app\"]");
}

std::string TempDir() {
  char dir[] = "/tmp/atomix-acl-it-XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  return dir;
}

class AccessControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_path_ = TempDir() + "/acl.toml";
    std::ofstream(policy_path_) << AppPolicy();
    BrokerProcess::Options options;
    options.args = {"--acl-policy", policy_path_};
    auto b = BrokerProcess::Start(options);
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(*b);
    channel_ = Channel(*broker_);
    stub_ = v1::Broker::NewStub(channel_);
  }

  grpc::Status Call(v1::PrimitiveType type, const std::string& name, const std::string& op,
                    v1::Response* response = nullptr) {
    v1::Request request;
    if (!google::protobuf::TextFormat::ParseFromString(op, &request)) {
      ADD_FAILURE() << "bad request text " << op;
    }
    request.set_type(type);
    request.set_name(name);
    v1::Response ignored;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    return stub_->Call(&context, request, response != nullptr ? response : &ignored);
  }
  grpc::Status Put(const std::string& map, const std::string& value) {
    return Call(v1::MAP, map, "map { put { key: 'k' value: '" + value + "' } }");
  }
  // The value of key "k" of `map`, or "<absent>".
  std::string Get(const std::string& map) {
    v1::Response r;
    const grpc::Status s = Call(v1::MAP, map, "map { get { key: 'k' } }", &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r.map().present() ? r.map().entry().value() : "<absent>";
  }
  // Replaces the policy file with `text` and sends SIGHUP.
  void Reload(const std::string& text) {
    std::ofstream(policy_path_ + ".new") << text;
    ASSERT_EQ(rename((policy_path_ + ".new").c_str(), policy_path_.c_str()), 0);
    ASSERT_EQ(kill(broker_->pid(), SIGHUP), 0);
  }

  std::string policy_path_;
  std::unique_ptr<BrokerProcess> broker_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Broker::Stub> stub_;
};

TEST_F(AccessControlTest, AWriteOutsideTheNamespaceIsRefusedAndNothingApplies) {
  const grpc::Status refused = Put("config/db", "v1");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(refused.error_message(),
            PrincipalInMessages() + " lacks the write right on \"config/db\" (map put)");
  EXPECT_EQ(Get("config/db"), "<absent>");  // reads are allowed, and nothing was written

  const grpc::Status allowed = Put("app/db", "v1");
  ASSERT_TRUE(allowed.ok()) << allowed.error_message();
  EXPECT_EQ(Get("app/db"), "v1");

  // Sessions need no right; a lock outside app/ is refused, inside granted.
  v1::Response opened;
  ASSERT_TRUE(Call(v1::PRIMITIVE_TYPE_UNSPECIFIED, "", "session { open { ttl_ms: 10000 } }",
                   &opened)
                  .ok());
  const uint64_t session = opened.session().session_id();
  ASSERT_NE(session, 0u);
  const std::string acquire = absl::StrCat("session_id: ", session,
                                           " lock { acquire { try_only: true } }");
  const grpc::Status lock = Call(v1::LOCK, "config/l", acquire);
  EXPECT_EQ(lock.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(lock.error_message(),
            PrincipalInMessages() + " lacks the lock right on \"config/l\" (lock acquire)");
  v1::Response granted;
  const grpc::Status own = Call(v1::LOCK, "app/l", acquire, &granted);
  ASSERT_TRUE(own.ok()) << own.error_message();
  EXPECT_TRUE(granted.lock().acquired());
}

TEST_F(AccessControlTest, AWatchOfAForbiddenNameIsRefused) {
  // Read on "*" lets it watch anything; a policy with read on app/ only
  // refuses the rest.
  Reload(std::string(kPrincipal).empty()
             ? "anonymous = [\"a\"]\n[roles.a]\nread = [\"app/\"]\n"
             : absl::StrCat("[roles.a]\nread = [\"app/\"]\n", GiveTestPrincipal("[\"a\"]")));
  ASSERT_TRUE(WaitUntil([&] {
    return Call(v1::MAP, "config/db", "map { get { key: 'k' } }").error_code() ==
           grpc::StatusCode::PERMISSION_DENIED;
  }));

  v1::WatchRequest request;
  request.set_type(v1::MAP);
  request.set_name("config/db");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  auto reader = stub_->Watch(&context, request);
  v1::WatchResponse response;
  EXPECT_FALSE(reader->Read(&response));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(),
            PrincipalInMessages() + " lacks the read right on \"config/db\" (watch)");

  // A name it may read is watched: the header arrives.
  v1::WatchRequest allowed = request;
  allowed.set_name("app/db");
  grpc::ClientContext allowed_context;
  allowed_context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  auto allowed_reader = stub_->Watch(&allowed_context, allowed);
  ASSERT_TRUE(allowed_reader->Read(&response));
  EXPECT_TRUE(response.has_header());
  allowed_context.TryCancel();
  allowed_reader->Finish();
}

TEST_F(AccessControlTest, AdminListingsNeedAdminAndStatusDoesNot) {
  auto admin = v1::Admin::NewStub(channel_);
  {
    grpc::ClientContext context;
    v1::ListSessionsResponse out;
    const grpc::Status s = admin->ListSessions(&context, v1::ListSessionsRequest(), &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(s.error_message(), PrincipalInMessages() +
                                     " lacks the admin right on \"*\" (Admin.ListSessions)");
  }
  {
    grpc::ClientContext context;
    v1::ListPrimitivesResponse out;
    const grpc::Status s = admin->ListPrimitives(&context, v1::ListPrimitivesRequest(), &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    auto reader = admin->Backup(&context, v1::BackupRequest());
    v1::BackupChunk chunk;
    EXPECT_FALSE(reader->Read(&chunk));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    v1::StatusResponse out;
    const grpc::Status s = admin->Status(&context, v1::StatusRequest(), &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  // Admin on "*" opens them.
  Reload(std::string(kPrincipal).empty()
             ? "anonymous = [\"ops\"]\n[roles.ops]\nadmin = [\"*\"]\n"
             : absl::StrCat("[roles.ops]\nadmin = [\"*\"]\n", GiveTestPrincipal("[\"ops\"]")));
  ASSERT_TRUE(WaitUntil([&] {
    grpc::ClientContext context;
    v1::ListSessionsResponse out;
    return admin->ListSessions(&context, v1::ListSessionsRequest(), &out).ok();
  }));
}

TEST_F(AccessControlTest, SighupPutsANewPolicyInForce) {
  ASSERT_EQ(Put("config/db", "v1").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  Reload(AppPolicy(", \"config/\""));
  // Refused attempts change nothing, so polling is safe.
  ASSERT_TRUE(WaitUntil([&] { return Put("config/db", "v2").ok(); }));
  EXPECT_EQ(Get("config/db"), "v2");
}

TEST_F(AccessControlTest, ABrokenPolicyOnSighupKeepsTheOld) {
  // Good up to its last line, which names a role nobody defined: a policy
  // applied half-way would let config/ be written.
  Reload(AppPolicy(", \"config/\"") + "[principals]\nsomeone = [\"no-such-role\"]\n");
  ASSERT_TRUE(WaitUntil([&] {
    return ReadFile(broker_->log_file()).find("access policy not reloaded") !=
           std::string::npos;
  }));
  const std::string log = ReadFile(broker_->log_file());
  EXPECT_NE(log.find(policy_path_ + ":"), std::string::npos) << log;
  EXPECT_NE(log.find("unknown role \"no-such-role\""), std::string::npos) << log;

  EXPECT_EQ(Put("config/db", "v1").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Put("app/db", "v1").ok());  // the old policy, whole
}

TEST(AccessControlStart, ABrokenPolicyFileStopsTheBrokerWithItsLine) {
  const std::string path = TempDir() + "/acl.toml";
  std::ofstream(path) << "[roles.a]\nread = [\"x\"]\nwrte = [\"x\"]\n";
  const std::string command = absl::StrCat(ATOMIX_BROKER_BIN, " --store memory --listen ",
                                           "127.0.0.1:0 --acl-policy ", path, " 2>&1");
  FILE* out = popen(command.c_str(), "r");
  ASSERT_NE(out, nullptr);
  std::string text;
  char buf[512];
  while (fgets(buf, sizeof(buf), out) != nullptr) text += buf;
  const int status = pclose(out);
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 2) << text;
  EXPECT_NE(text.find(path + ":3: key \"roles.a.wrte\": unknown right \"wrte\""),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace atomix::testing
