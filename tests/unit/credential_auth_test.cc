// The tokens file, the --auth decision and the loopback test, without gRPC.
#include <gtest/gtest.h>

#include <string>

#include "broker-sim/src/server/credential_auth.h"
#include "broker-sim/src/server/security_setup.h"
#include "broker-sim/src/server/token_file.h"

namespace atomix::broker {
namespace {

// printf %s test | sha256sum
constexpr char kTestHash[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

TEST(TokenFile, FindsThePrincipalOfAToken) {
  absl::StatusOr<TokenTable> t = ParseTokenFile(
      std::string("# comment\n\nalice ") + kTestHash + "  # trailing\n", "tokens");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->size(), 1u);
  const std::string* who = t->Find("test");
  ASSERT_NE(who, nullptr);
  EXPECT_EQ(*who, "alice");
  EXPECT_EQ(t->Find("tes"), nullptr);
  EXPECT_EQ(t->Find(kTestHash), nullptr);  // the hash is not the token
}

TEST(TokenFile, BadLinesNameTheFileAndLine) {
  absl::StatusOr<TokenTable> t = ParseTokenFile("\nbob abc\n", "/etc/t");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("/etc/t line 2"), absl::string_view::npos) << t.status();
  EXPECT_NE(t.status().message().find("64 hex digits"), absl::string_view::npos);
  t = ParseTokenFile(std::string("a ") + kTestHash + "\nb " + kTestHash + "\n", "t");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("appears twice"), absl::string_view::npos);
  t = ParseTokenFile(std::string("a b ") + kTestHash + "\n", "t");
  EXPECT_FALSE(t.ok());
  t = ParseTokenFile(std::string("sp/ace ") + kTestHash + "\n", "t");
  EXPECT_FALSE(t.ok());
}

TEST(CredentialAuth, ModesDecideFromTokenAndCertificate) {
  auto none = CredentialAuthenticator::Create(AuthMode::kNone, "");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*(*none)->Decide("Bearer x", "alice"), "");

  auto cert = CredentialAuthenticator::Create(AuthMode::kCert, "");
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(*(*cert)->Decide("", "alice"), "alice");
  absl::StatusOr<std::string> refused = (*cert)->Decide("", "");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("no client certificate"), absl::string_view::npos);

  EXPECT_FALSE(CredentialAuthenticator::Create(AuthMode::kToken, "").ok());
  auto any = CredentialAuthenticator::Create(AuthMode::kAny, "");
  ASSERT_TRUE(any.ok());
  refused = (*any)->Decide("", "");
  EXPECT_NE(refused.status().message().find("no bearer token and no client certificate"),
            absl::string_view::npos);
  refused = (*any)->Decide("Basic abc", "alice");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  refused = (*any)->Decide("Bearer unknown", "alice");  // a bad token is not skipped
  EXPECT_NE(refused.status().message().find("unknown bearer token"), absl::string_view::npos);
  EXPECT_EQ(*(*any)->Decide("", "alice"), "alice");
}

TEST(SecuritySetup, LoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackListen("127.0.0.1:5679"));
  EXPECT_TRUE(IsLoopbackListen("[::1]:0"));
  EXPECT_TRUE(IsLoopbackListen("localhost:1"));
  EXPECT_TRUE(IsLoopbackListen("unix:/tmp/s"));
  EXPECT_FALSE(IsLoopbackListen("0.0.0.0:5679"));
  EXPECT_FALSE(IsLoopbackListen("[::]:5679"));
  EXPECT_FALSE(IsLoopbackListen("10.0.0.5:5679"));
}

TEST(SecuritySetup, FlagsThatDoNotFitAreNamed) {
  SecurityOptions o;
  o.tls.key = "k";
  EXPECT_NE(CheckSecurityOptions(o).message().find("--tls-key needs --tls-cert"),
            absl::string_view::npos);
  o = {};
  o.auth = "cert";
  EXPECT_NE(CheckSecurityOptions(o).message().find("--tls-client-ca"), absl::string_view::npos);
  o = {};
  o.auth = "token";
  EXPECT_NE(CheckSecurityOptions(o).message().find("--auth-tokens"), absl::string_view::npos);
}

}  // namespace
}  // namespace atomix::broker
