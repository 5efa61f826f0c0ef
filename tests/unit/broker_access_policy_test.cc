// Access policies: name patterns, rights and roles, the TOML policy file
// with each of its errors naming its line and key, reloads that keep the old
// policy on error, and the shipped example docs/examples/acl.toml.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "broker-sim/src/config/access_policy_file.h"
#include "broker-sim/src/core/access_control.h"
#include "broker-sim/src/core/access_policy.h"

namespace atomix::broker {
namespace {

using R = AccessRight;

constexpr char kPath[] = "acl.toml";

std::shared_ptr<const AccessPolicy> Parse(const std::string& text) {
  auto policy = ParseAccessPolicy(text, kPath);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *policy : std::make_shared<const AccessPolicy>();
}

// The error of a bad policy text ("" if it parsed).
std::string ErrorOf(const std::string& text) {
  auto policy = ParseAccessPolicy(text, kPath);
  if (policy.ok()) return "";
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(policy.status().message());
}

TEST(NamePattern, EverythingPrefixAndExact) {
  auto all = NamePattern::Parse("*");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Matches("a"));
  EXPECT_TRUE(all->Matches("jobs/x/y"));

  auto prefix = NamePattern::Parse("jobs/");
  ASSERT_TRUE(prefix.ok());
  EXPECT_TRUE(prefix->Matches("jobs/a"));
  EXPECT_TRUE(prefix->Matches("jobs/x/y"));
  EXPECT_FALSE(prefix->Matches("jobs"));
  EXPECT_FALSE(prefix->Matches("jobsx/a"));
  EXPECT_FALSE(prefix->Matches("other/jobs/a"));

  auto exact = NamePattern::Parse("leader");
  ASSERT_TRUE(exact.ok());
  EXPECT_TRUE(exact->Matches("leader"));
  EXPECT_FALSE(exact->Matches("leader2"));
  EXPECT_FALSE(exact->Matches("leade"));
}

TEST(NamePattern, BadPatternsAreRefusedByName) {
  EXPECT_NE(NamePattern::Parse("").status().message().find("empty pattern"),
            std::string::npos);
  const absl::Status star = NamePattern::Parse("jobs/*").status();
  EXPECT_EQ(star.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(star.message().find("\"jobs/*\""), std::string::npos) << star;
  EXPECT_NE(star.message().find("\"jobs/\""), std::string::npos) << star;
  EXPECT_NE(NamePattern::Parse(std::string(257, 'a')).status().message().find("257 bytes"),
            std::string::npos);
}

TEST(AccessPolicy, RolesGrantRightsOverPatterns) {
  auto policy = Parse(R"(
[roles.jobs]
read = ["jobs/", "config/"]
write = ["jobs/"]
lock = ["leader"]

[principals]
alice = ["jobs"]
)");
  EXPECT_TRUE(policy->Allows("alice", R::kRead, "config/db"));
  EXPECT_TRUE(policy->Allows("alice", R::kWrite, "jobs/x/y"));
  EXPECT_FALSE(policy->Allows("alice", R::kWrite, "config/db"));
  EXPECT_TRUE(policy->Allows("alice", R::kLock, "leader"));
  EXPECT_FALSE(policy->Allows("alice", R::kLock, "jobs/a"));  // rights are separate
  EXPECT_FALSE(policy->Allows("alice", R::kAdmin, "jobs/a"));
  EXPECT_FALSE(policy->Allows("bob", R::kRead, "jobs/a"));    // not in the policy
  EXPECT_FALSE(policy->Allows("", R::kRead, "jobs/a"));       // anonymous: nothing
}

TEST(AccessPolicy, AdminImpliesEveryRightOnItsNames) {
  auto policy = Parse(R"(
[roles.ops]
admin = ["ops/"]
[principals]
root = ["ops"]
)");
  for (R right : {R::kRead, R::kWrite, R::kLock, R::kAdmin}) {
    EXPECT_TRUE(policy->Allows("root", right, "ops/x")) << RightName(right);
    EXPECT_FALSE(policy->Allows("root", right, "jobs/x")) << RightName(right);
  }
}

TEST(AccessPolicy, AnonymousAndAuthenticatedRoles) {
  auto policy = Parse(R"(
anonymous = ["public"]
authenticated = ["everyone"]
[roles.public]
read = ["public/"]
[roles.everyone]
read = ["shared/"]
[roles.writer]
write = ["shared/"]
[principals]
carol = ["writer"]
)");
  EXPECT_TRUE(policy->Allows("", R::kRead, "public/a"));
  EXPECT_FALSE(policy->Allows("", R::kRead, "shared/a"));
  EXPECT_TRUE(policy->Allows("dave", R::kRead, "shared/a"));   // any authenticated one
  EXPECT_FALSE(policy->Allows("dave", R::kRead, "public/a"));  // anonymous roles are its own
  EXPECT_TRUE(policy->Allows("carol", R::kWrite, "shared/a"));
  EXPECT_TRUE(policy->Allows("carol", R::kRead, "shared/a"));
  EXPECT_FALSE(policy->Allows("dave", R::kWrite, "shared/a"));
}

TEST(AccessPolicy, RefusalNamesPrincipalRightAndName) {
  auto policy = Parse(R"(
anonymous = ["r"]
[roles.r]
read = ["*"]
[principals]
alice = ["r"]
)");
  const absl::Status denied = policy->Check("alice", R::kWrite, "config/db", "map put");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "principal \"alice\" lacks the write right on \"config/db\" (map put)");
  EXPECT_EQ(policy->Check("", R::kLock, "l").message(),
            "principal \"\" (anonymous) lacks the lock right on \"l\"");
  EXPECT_TRUE(policy->Check("alice", R::kRead, "config/db").ok());
}

TEST(AccessPolicyFile, AnEmptyPolicyAllowsNothing) {
  auto policy = Parse("");
  EXPECT_FALSE(policy->Allows("", R::kRead, "a"));
  EXPECT_FALSE(policy->Allows("alice", R::kRead, "a"));
}

TEST(AccessPolicyFile, EachErrorNamesItsLineAndKey) {
  // A syntax error: line and column.
  EXPECT_EQ(ErrorOf("[roles.a]\nread = [\"x\"\n").rfind("acl.toml:2:", 0), 0u)
      << ErrorOf("[roles.a]\nread = [\"x\"\n");
  EXPECT_EQ(ErrorOf("\nrole = []\n"),
            "acl.toml:2: unknown key \"role\" (expected anonymous, authenticated, "
            "[roles.NAME] or [principals])");
  EXPECT_EQ(ErrorOf("[roles.a]\nread = [\"x\"]\nwrte = [\"x\"]\n"),
            "acl.toml:3: key \"roles.a.wrte\": unknown right \"wrte\" (rights are read, "
            "write, lock and admin)");
  EXPECT_EQ(ErrorOf("[roles.a]\nread = \"x\"\n"),
            "acl.toml:2: key \"roles.a.read\": expected an array of name patterns, as "
            "[\"jobs/\", \"config\"]");
  EXPECT_EQ(ErrorOf("[roles.a]\nread = [\n  \"ok/\",\n  3,\n]\n"),
            "acl.toml:4: key \"roles.a.read\": expected an array of name patterns "
            "(strings)");
  const std::string star = ErrorOf("[roles.a]\n\nwrite = [\"jobs/*\"]\n");
  EXPECT_EQ(star.rfind("acl.toml:3: key \"roles.a.write\": pattern \"jobs/*\"", 0), 0u)
      << star;
  EXPECT_EQ(ErrorOf("roles = 1\n").rfind("acl.toml:1: key \"roles\": expected a table", 0),
            0u);
  EXPECT_EQ(ErrorOf("[roles]\na = 1\n").rfind("acl.toml:2: key \"roles.a\": expected a table", 0),
            0u);
  EXPECT_EQ(ErrorOf("[roles.a]\n[principals]\nalice = [\"a\", \"b\"]\n"),
            "acl.toml:3: key \"principals.alice\": unknown role \"b\" (no [roles.b] table)");
  EXPECT_EQ(ErrorOf("[roles.a]\n[principals]\nalice = \"a\"\n"),
            "acl.toml:3: key \"principals.alice\": expected an array of role names");
  EXPECT_EQ(ErrorOf("anonymous = [\"nobody\"]\n"),
            "acl.toml:1: key \"anonymous\": unknown role \"nobody\" (no [roles.nobody] "
            "table)");
  EXPECT_EQ(ErrorOf("authenticated = [1]\n"),
            "acl.toml:1: key \"authenticated\": expected an array of role names (strings)");
  EXPECT_EQ(ErrorOf("[roles.a]\n[principals]\n\"\" = [\"a\"]\n").rfind("acl.toml:3: key", 0),
            0u);
}

TEST(AccessPolicyFile, AMissingFileIsNotFound) {
  auto policy = LoadAccessPolicy("/nonexistent/acl.toml");
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(policy.status().message().find("/nonexistent/acl.toml"), std::string::npos);
}

std::string WriteFile(const std::string& text) {
  char dir[] = "/tmp/atomix-acl-XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/acl.toml";
  std::ofstream(path) << text;
  return path;
}

TEST(AccessPolicyFile, ReloadReplacesAGoodPolicyAndKeepsTheOldOnError) {
  const std::string path = WriteFile("anonymous = [\"r\"]\n[roles.r]\nread = [\"a/\"]\n");
  AccessControl control;
  EXPECT_EQ(control.Current(), nullptr);
  ASSERT_TRUE(ReloadAccessPolicy(path, control).ok());
  const std::shared_ptr<const AccessPolicy> first = control.Current();
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(first->Allows("", R::kRead, "a/x"));

  std::ofstream(path) << "anonymous = [\"r\"]\n[roles.r]\nread = [\"a/*\"]\n";
  const absl::Status bad = ReloadAccessPolicy(path, control);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find(path + ":3:"), std::string::npos) << bad;
  EXPECT_EQ(control.Current(), first);  // the old policy stays in force

  std::ofstream(path) << "anonymous = [\"r\"]\n[roles.r]\nread = [\"b/\"]\n";
  ASSERT_TRUE(ReloadAccessPolicy(path, control).ok());
  EXPECT_NE(control.Current(), first);
  EXPECT_FALSE(control.Current()->Allows("", R::kRead, "a/x"));
  EXPECT_TRUE(control.Current()->Allows("", R::kRead, "b/x"));
  // A reader that took the old policy still has all of it.
  EXPECT_TRUE(first->Allows("", R::kRead, "a/x"));
}

TEST(AccessPolicyFile, TheShippedExampleLoadsAndSaysWhatItsCommentsSay) {
  auto policy = LoadAccessPolicy(std::string(ATOMIX_SOURCE_DIR) + "/docs/examples/acl.toml");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const AccessPolicy& p = **policy;
  EXPECT_TRUE(p.Allows("", R::kRead, "public/motd"));
  EXPECT_FALSE(p.Allows("", R::kWrite, "public/motd"));
  EXPECT_TRUE(p.Allows("jobs-service", R::kWrite, "jobs/queue"));
  EXPECT_TRUE(p.Allows("jobs-service", R::kLock, "scheduler-leader"));
  EXPECT_FALSE(p.Allows("jobs-service", R::kWrite, "config/db"));
  EXPECT_TRUE(p.Allows("config-service", R::kWrite, "config/db"));
  EXPECT_TRUE(p.Allows("grafana", R::kRead, "anything"));
  EXPECT_FALSE(p.Allows("grafana", R::kAdmin, "*"));
  EXPECT_TRUE(p.Allows("alice@example.org", R::kAdmin, "*"));
  EXPECT_TRUE(p.Allows("someone-else", R::kRead, "public/motd"));
  EXPECT_FALSE(p.Allows("someone-else", R::kRead, "jobs/queue"));
}

}  // namespace
}  // namespace atomix::broker
