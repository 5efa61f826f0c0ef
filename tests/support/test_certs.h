// TestCerts: a throw-away PKI for TLS tests, made with the openssl CLI in a
// fresh temporary directory: a CA, a server certificate for 127.0.0.1 and
// localhost, client certificates, a second CA, and expired certificates.
//
//   absl::StatusOr<atomix::testing::TestCerts> certs = atomix::testing::MakeTestCerts();
//   ASSERT_TRUE(certs.ok()) << certs.status();
//   args = {"--tls-cert", certs->server.cert, "--tls-key", certs->server.key};
//
// Thread-safety: MakeTestCerts may run on any thread; a TestCerts is a
// value.
#ifndef ATOMIX_TESTS_SUPPORT_TEST_CERTS_H_
#define ATOMIX_TESTS_SUPPORT_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace atomix::testing {

struct CertFiles {
  std::string cert;  // PEM certificate path
  std::string key;   // PEM private key path
};

struct TestCerts {
  std::string dir;
  CertFiles ca;               // CN=atomix-test-ca
  CertFiles other_ca;         // CN=atomix-other-ca, trusted by nobody
  CertFiles server;           // CN=localhost, SAN 127.0.0.1 + localhost, by ca
  CertFiles other_server;     // the same names, signed by other_ca
  CertFiles expired_server;   // by ca, expired yesterday
  CertFiles client;           // CN=alice, by ca
  CertFiles expired_client;   // CN=alice, by ca, expired yesterday
  CertFiles rogue_client;     // CN=mallory, by other_ca
};

// INTERNAL naming the openssl command and its output if one fails.
absl::StatusOr<TestCerts> MakeTestCerts();

// A key pair signed by `ca`, valid for `days` (negative: expired), into
// dir/<name>.crt and .key.
absl::StatusOr<CertFiles> MakeCert(const std::string& dir, const std::string& name,
                                   const std::string& subject_cn, const CertFiles& ca,
                                   int days, bool server);

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_TEST_CERTS_H_
