// TLS, mutual TLS and bearer tokens against the real broker, with a PKI
// made by the openssl CLI for each test (tests/support/test_certs.h).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "atomix/v1/admin.grpc.pb.h"
#include "atomix/atomix.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/broker_process.h"
#include "tests/support/process.h"
#include "tests/support/test_certs.h"
#include "tests/support/wait_until.h"

namespace atomix {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::BrokerProcess;
using testing::CertFiles;
using testing::TestCerts;

// SHA-256 of "s3cret-alice" and "s3cret-bob" (printf %s TOKEN | sha256sum).
constexpr char kAliceToken[] = "s3cret-alice";
constexpr char kBobToken[] = "s3cret-bob";

std::string HashLine(const std::string& principal, const std::string& token,
                     const std::string& dir) {
  const std::string out = dir + "/hash.txt";
  const std::string cmd = "printf %s '" + token + "' | sha256sum | cut -d' ' -f1 > " + out;
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::string hash = testing::ReadFile(out);
  while (!hash.empty() && hash.back() == '\n') hash.pop_back();
  return principal + " " + hash + "\n";
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

class TlsAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCerts> made = testing::MakeTestCerts();
    ASSERT_TRUE(made.ok()) << made.status();
    certs_ = *made;
    // The brokers keep their private copy of the TLS files under $TMPDIR;
    // SIGKILLed, they leave it there, so it goes with this test's files.
    if (const char* tmp = std::getenv("TMPDIR")) saved_tmpdir_ = tmp;
    setenv("TMPDIR", certs_.dir.c_str(), 1);
  }
  void TearDown() override {
    if (saved_tmpdir_) {
      setenv("TMPDIR", saved_tmpdir_->c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
    std::filesystem::remove_all(certs_.dir);
  }

  std::unique_ptr<BrokerProcess> StartBroker(std::vector<std::string> args) {
    BrokerProcess::Options o;
    o.args = std::move(args);
    absl::StatusOr<std::unique_ptr<BrokerProcess>> b = BrokerProcess::Start(o);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *std::move(b) : nullptr;
  }

  std::vector<std::string> TlsArgs() const {
    return {"--tls-cert", certs_.server.cert, "--tls-key", certs_.server.key};
  }

  ClientOptions Options(const BrokerProcess& broker, const std::string& root_ca,
                        const CertFiles* client = nullptr, const std::string& token = "") {
    ClientOptions o;
    o.endpoints = {broker.endpoint()};
    o.connect_timeout = seconds(3);
    o.tls.emplace();
    o.tls->root_ca_file = root_ca;
    if (client != nullptr) {
      o.tls->cert_file = client->cert;
      o.tls->key_file = client->key;
    }
    o.token = token;
    return o;
  }

  // Increments "jobs" through `client`; the new value.
  static absl::StatusOr<int64_t> Inc(const Client& client) {
    absl::StatusOr<Counter> jobs = GetCounter(client, "jobs");
    if (!jobs.ok()) return jobs.status();
    absl::StatusOr<Versioned<int64_t>> v = jobs->Increment();
    if (!v.ok()) return v.status();
    return v->value;
  }

  TestCerts certs_;
  std::optional<std::string> saved_tmpdir_;
};

TEST_F(TlsAuth, TrustedBrokerServesCountersAndWatches) {
  auto broker = StartBroker(TlsArgs());
  ASSERT_NE(broker, nullptr);
  absl::StatusOr<Client> client = Client::Connect(Options(*broker, certs_.ca.cert));
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<Counter> jobs = GetCounter(*client, "jobs");
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  absl::StatusOr<Channel<CounterEvent>> events = jobs->Watch();
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(*Inc(*client), 1);
  EXPECT_EQ(*Inc(*client), 2);
  std::optional<CounterEvent> e = events->Receive(seconds(20));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->value, 1);
  e = events->Receive(seconds(20));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->value, 2);

  // The unary transport uses the same credentials.
  ClientOptions unary = Options(*broker, certs_.ca.cert);
  unary.transport = ClientOptions::Transport::kUnary;
  absl::StatusOr<Client> unary_client = Client::Connect(unary);
  ASSERT_TRUE(unary_client.ok()) << unary_client.status();
  EXPECT_EQ(*Inc(*unary_client), 3);
}

TEST_F(TlsAuth, PlaintextClientIsRefusedAndTheBrokerSaysWhy) {
  auto broker = StartBroker(TlsArgs());
  ASSERT_NE(broker, nullptr);
  ClientOptions o;
  o.endpoints = {broker->endpoint()};
  o.connect_timeout = seconds(2);
  absl::StatusOr<Client> client = Client::Connect(o);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable) << client.status();
  EXPECT_NE(client.status().message().find(broker->endpoint()), absl::string_view::npos)
      << client.status();
  EXPECT_TRUE(testing::WaitUntil(
      [&] { return broker->log().find("Handshake failed") != std::string::npos; }, seconds(10)))
      << broker->log();
}

TEST_F(TlsAuth, ClientThatTrustsAnotherCaIsRefused) {
  auto broker = StartBroker(TlsArgs());
  ASSERT_NE(broker, nullptr);
  absl::StatusOr<Client> client = Client::Connect(Options(*broker, certs_.other_ca.cert));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable) << client.status();
  EXPECT_NE(client.status().message().find(broker->endpoint()), absl::string_view::npos);
  EXPECT_NE(client.status().message().find("andshake"), absl::string_view::npos)
      << client.status();
}

TEST_F(TlsAuth, ExpiredServerCertificateStopsTheStart) {
  BrokerProcess::Options o;
  o.args = {"--tls-cert", certs_.expired_server.cert, "--tls-key", certs_.expired_server.key};
  absl::StatusOr<std::unique_ptr<BrokerProcess>> b = BrokerProcess::Start(o);
  ASSERT_FALSE(b.ok());
  const std::string message(b.status().message());
  EXPECT_NE(message.find("exited with 1"), std::string::npos) << message;
  EXPECT_NE(message.find(certs_.expired_server.cert), std::string::npos) << message;
  EXPECT_NE(message.find("expired on"), std::string::npos) << message;
}

TEST_F(TlsAuth, KeyOfAnotherCertificateStopsTheStart) {
  BrokerProcess::Options o;
  o.args = {"--tls-cert", certs_.server.cert, "--tls-key", certs_.client.key};
  absl::StatusOr<std::unique_ptr<BrokerProcess>> b = BrokerProcess::Start(o);
  ASSERT_FALSE(b.ok());
  const std::string message(b.status().message());
  EXPECT_NE(message.find("exited with 1"), std::string::npos) << message;
  EXPECT_NE(message.find("does not match the certificate"), std::string::npos) << message;
}

TEST_F(TlsAuth, MutualTlsNeedsAValidClientCertificate) {
  std::vector<std::string> args = TlsArgs();
  args.insert(args.end(), {"--tls-client-ca", certs_.ca.cert, "--auth", "cert"});
  auto broker = StartBroker(args);
  ASSERT_NE(broker, nullptr);
  const std::vector<const CertFiles*> refused = {nullptr, &certs_.expired_client,
                                                 &certs_.rogue_client};
  for (const CertFiles* bad : refused) {
    absl::StatusOr<Client> client = Client::Connect(Options(*broker, certs_.ca.cert, bad));
    ASSERT_FALSE(client.ok()) << (bad ? bad->cert : "no client certificate");
    EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable) << client.status();
    EXPECT_NE(client.status().message().find(broker->endpoint()), absl::string_view::npos);
  }
  // A certificate from the CA: its subject CN (alice) is the principal.
  absl::StatusOr<Client> client = Client::Connect(Options(*broker, certs_.ca.cert, &certs_.client));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(*Inc(*client), 1);
}

TEST_F(TlsAuth, TokensAreRequiredCheckedAndAdminCallsToo) {
  const std::string tokens = certs_.dir + "/tokens";
  WriteFile(tokens, "# principal sha256\n" + HashLine("alice", kAliceToken, certs_.dir));
  std::vector<std::string> args = TlsArgs();
  args.insert(args.end(), {"--auth", "token", "--auth-tokens", tokens});
  auto broker = StartBroker(args);
  ASSERT_NE(broker, nullptr);

  absl::StatusOr<Client> none = Client::Connect(Options(*broker, certs_.ca.cert));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnauthenticated) << none.status();
  EXPECT_NE(none.status().message().find("no bearer token"), absl::string_view::npos)
      << none.status();

  absl::StatusOr<Client> wrong =
      Client::Connect(Options(*broker, certs_.ca.cert, nullptr, "not-a-token"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnauthenticated) << wrong.status();
  EXPECT_NE(wrong.status().message().find("unknown bearer token"), absl::string_view::npos)
      << wrong.status();

  absl::StatusOr<Client> alice =
      Client::Connect(Options(*broker, certs_.ca.cert, nullptr, kAliceToken));
  ASSERT_TRUE(alice.ok()) << alice.status();
  EXPECT_EQ(*Inc(*alice), 1);

  // Admin calls authenticate as well.
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = testing::ReadFile(certs_.ca.cert);
  auto admin = v1::Admin::NewStub(grpc::CreateChannel(broker->endpoint(), grpc::SslCredentials(ssl)));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  v1::StatusResponse status;
  grpc::Status refused = admin->Status(&context, v1::StatusRequest(), &status);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED) << refused.error_message();
  EXPECT_NE(refused.error_message().find("no bearer token"), std::string::npos);
  grpc::ClientContext with_token;
  with_token.set_deadline(std::chrono::system_clock::now() + seconds(10));
  with_token.AddMetadata("authorization", std::string("Bearer ") + kAliceToken);
  grpc::Status allowed = admin->Status(&with_token, v1::StatusRequest(), &status);
  EXPECT_TRUE(allowed.ok()) << allowed.error_message();
}

TEST_F(TlsAuth, CreateWithAnUnreadableRootCaNeverConnects) {
  auto broker = StartBroker(TlsArgs());
  ASSERT_NE(broker, nullptr);
  ClientOptions o = Options(*broker, certs_.dir + "/no-such-ca.crt");
  o.default_call_timeout = std::chrono::milliseconds(1500);
  EXPECT_FALSE(Client::Connect(o).ok());
  Client client = Client::Create(o);
  absl::StatusOr<Counter> counter = GetCounter(client, "jobs");
  const absl::Status outcome =
      counter.ok() ? counter->Increment(1).status() : counter.status();
  EXPECT_FALSE(outcome.ok());
  EXPECT_TRUE(client.connected_endpoint().empty());
}

TEST_F(TlsAuth, AnyModeTakesATokenOrAClientCertificate) {
  const std::string tokens = certs_.dir + "/tokens";
  WriteFile(tokens, HashLine("bob", kBobToken, certs_.dir));
  std::vector<std::string> args = TlsArgs();
  args.insert(args.end(), {"--tls-client-ca", certs_.ca.cert, "--auth", "any",
                           "--auth-tokens", tokens});
  auto broker = StartBroker(args);
  ASSERT_NE(broker, nullptr);
  absl::StatusOr<Client> by_cert =
      Client::Connect(Options(*broker, certs_.ca.cert, &certs_.client));
  ASSERT_TRUE(by_cert.ok()) << by_cert.status();
  EXPECT_EQ(*Inc(*by_cert), 1);
  absl::StatusOr<Client> wrong =
      Client::Connect(Options(*broker, certs_.ca.cert, &certs_.client, "nope"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnauthenticated) << wrong.status();
  absl::StatusOr<Client> by_token =
      Client::Connect(Options(*broker, certs_.ca.cert, &certs_.client, kBobToken));
  ASSERT_TRUE(by_token.ok()) << by_token.status();
  EXPECT_EQ(*Inc(*by_token), 2);
  // A token alone, with no client certificate, passes the handshake too.
  absl::StatusOr<Client> token_only =
      Client::Connect(Options(*broker, certs_.ca.cert, nullptr, kBobToken));
  ASSERT_TRUE(token_only.ok()) << token_only.status();
  EXPECT_EQ(*Inc(*token_only), 3);
  // Neither: refused by the broker, naming both.
  absl::StatusOr<Client> neither = Client::Connect(Options(*broker, certs_.ca.cert));
  ASSERT_FALSE(neither.ok());
  EXPECT_EQ(neither.status().code(), absl::StatusCode::kUnauthenticated) << neither.status();
}

TEST_F(TlsAuth, SighupSwapsTheCertificateAndKeepsConnectedClients) {
  // The broker reads copies, so the test can replace them.
  const std::string cert = certs_.dir + "/live.crt";
  const std::string key = certs_.dir + "/live.key";
  std::filesystem::copy_file(certs_.server.cert, cert);
  std::filesystem::copy_file(certs_.server.key, key);
  auto broker = StartBroker({"--tls-cert", cert, "--tls-key", key});
  ASSERT_NE(broker, nullptr);
  absl::StatusOr<Client> old_client = Client::Connect(Options(*broker, certs_.ca.cert));
  ASSERT_TRUE(old_client.ok()) << old_client.status();
  EXPECT_EQ(*Inc(*old_client), 1);

  // A broken certificate file on SIGHUP: logged, the old one stays.
  WriteFile(cert, "not a certificate\n");
  ASSERT_EQ(kill(broker->pid(), SIGHUP), 0);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return broker->log().find("TLS reload failed") != std::string::npos; }, seconds(10)))
      << broker->log();
  EXPECT_NE(broker->log().find(cert + ": no PEM certificate"), std::string::npos) << broker->log();
  absl::StatusOr<Client> still = Client::Connect(Options(*broker, certs_.ca.cert));
  ASSERT_TRUE(still.ok()) << still.status();

  // The certificate of another CA: new clients that trust only it get in.
  std::filesystem::copy_file(certs_.other_server.cert, cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(certs_.other_server.key, key,
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(kill(broker->pid(), SIGHUP), 0);
  std::optional<Client> new_client;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        ClientOptions o = Options(*broker, certs_.other_ca.cert);
        o.connect_timeout = milliseconds(500);
        absl::StatusOr<Client> c = Client::Connect(o);
        if (c.ok()) new_client = *c;
        return c.ok();
      },
      seconds(20)));
  EXPECT_EQ(*Inc(*new_client), 2);
  // The client connected before the reload keeps its connection.
  EXPECT_EQ(*Inc(*old_client), 3);
  EXPECT_EQ(old_client->session_state(), SessionState::kConnected);
}

TEST_F(TlsAuth, SighupReloadsTheTokens) {
  const std::string tokens = certs_.dir + "/tokens";
  WriteFile(tokens, HashLine("alice", kAliceToken, certs_.dir));
  std::vector<std::string> args = TlsArgs();
  args.insert(args.end(), {"--auth", "token", "--auth-tokens", tokens});
  auto broker = StartBroker(args);
  ASSERT_NE(broker, nullptr);
  absl::StatusOr<Client> bob = Client::Connect(Options(*broker, certs_.ca.cert, nullptr, kBobToken));
  ASSERT_FALSE(bob.ok());
  EXPECT_EQ(bob.status().code(), absl::StatusCode::kUnauthenticated);

  // Bob in, Alice out.
  WriteFile(tokens, HashLine("bob", kBobToken, certs_.dir));
  ASSERT_EQ(kill(broker->pid(), SIGHUP), 0);
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        ClientOptions o = Options(*broker, certs_.ca.cert, nullptr, kBobToken);
        o.connect_timeout = milliseconds(500);
        return Client::Connect(o).ok();
      },
      seconds(20)));
  absl::StatusOr<Client> alice =
      Client::Connect(Options(*broker, certs_.ca.cert, nullptr, kAliceToken));
  ASSERT_FALSE(alice.ok());
  EXPECT_EQ(alice.status().code(), absl::StatusCode::kUnauthenticated) << alice.status();

  // A broken tokens file keeps the tokens loaded before.
  WriteFile(tokens, "bob not-a-hash\n");
  ASSERT_EQ(kill(broker->pid(), SIGHUP), 0);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return broker->log().find("tokens reload failed") != std::string::npos; },
      seconds(10)))
      << broker->log();
  EXPECT_NE(broker->log().find("line 1"), std::string::npos) << broker->log();
  absl::StatusOr<Client> bob_again =
      Client::Connect(Options(*broker, certs_.ca.cert, nullptr, kBobToken));
  EXPECT_TRUE(bob_again.ok()) << bob_again.status();
}

TEST_F(TlsAuth, ATokenWithoutTlsIsRefusedByConnect) {
  ClientOptions o;
  o.endpoints = {"127.0.0.1:1"};
  o.token = kAliceToken;
  absl::StatusOr<Client> client = Client::Connect(o);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument) << client.status();
}

// Not a check, a measurement (run with --gtest_also_run_disabled_tests):
// increments per second from 8 threads over one client, plaintext, TLS and
// TLS with a bearer token; and how long after SIGHUP a new certificate
// serves its first client.
TEST_F(TlsAuth, DISABLED_MeasureThroughputAndReload) {
  const std::string tokens = certs_.dir + "/tokens";
  WriteFile(tokens, HashLine("alice", kAliceToken, certs_.dir));
  struct Setup {
    const char* name;
    std::vector<std::string> args;
    bool tls;
    std::string token;
  };
  std::vector<std::string> token_args = TlsArgs();
  token_args.insert(token_args.end(), {"--auth", "token", "--auth-tokens", tokens});
  const std::vector<Setup> setups = {{"plaintext", {}, false, ""},
                                     {"tls", TlsArgs(), true, ""},
                                     {"tls+token", token_args, true, kAliceToken}};
  for (const Setup& setup : setups) {
    auto broker = StartBroker(setup.args);
    ASSERT_NE(broker, nullptr);
    ClientOptions o = Options(*broker, certs_.ca.cert, nullptr, setup.token);
    if (!setup.tls) o.tls.reset();
    absl::StatusOr<Client> client = Client::Connect(o);
    ASSERT_TRUE(client.ok()) << client.status();
    absl::StatusOr<Counter> jobs = GetCounter(*client, "jobs");
    ASSERT_TRUE(jobs.ok());
    constexpr int kThreads = 8, kEach = 5000;
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kEach; ++i) ASSERT_TRUE(jobs->Increment().ok());
      });
    }
    for (std::thread& t : threads) t.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-10s %d increments in %.2f s: %.0f/s\n", setup.name, kThreads * kEach, s,
                kThreads * kEach / s);
    const auto connect_start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(Client::Connect(o).ok());
    std::printf("%-10s Connect (channel, handshake, session): %.1f ms each\n", setup.name,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                          connect_start).count() / 20);
  }
  const std::string cert = certs_.dir + "/live.crt";
  const std::string key = certs_.dir + "/live.key";
  std::filesystem::copy_file(certs_.server.cert, cert);
  std::filesystem::copy_file(certs_.server.key, key);
  auto broker = StartBroker({"--tls-cert", cert, "--tls-key", key});
  ASSERT_NE(broker, nullptr);
  std::filesystem::copy_file(certs_.other_server.cert, cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(certs_.other_server.key, key,
                             std::filesystem::copy_options::overwrite_existing);
  const auto hup = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(broker->pid(), SIGHUP), 0);
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        ClientOptions o = Options(*broker, certs_.other_ca.cert);
        o.connect_timeout = milliseconds(200);
        return Client::Connect(o).ok();
      },
      seconds(20)));
  std::printf("SIGHUP to the first client of the new CA: %.0f ms\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - hup)
                  .count());
}

}  // namespace
}  // namespace atomix
