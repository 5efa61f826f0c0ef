#include "tests/support/test_certs.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/support/process.h"

namespace atomix::testing {
namespace {

absl::Status Run(const std::string& dir, const std::string& command) {
  const std::string log = dir + "/openssl.log";
  const std::string line = absl::StrCat("cd '", dir, "' && ", command, " >'", log, "' 2>&1");
  if (std::system(line.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("openssl failed: ", command, ": ", ReadFile(log)));
  }
  return absl::OkStatus();
}

absl::StatusOr<CertFiles> MakeCa(const std::string& dir, const std::string& name,
                                 const std::string& cn) {
  CertFiles f{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  absl::Status s = Run(dir, absl::StrCat("openssl req -x509 -newkey ec -pkeyopt "
                                         "ec_paramgen_curve:P-256 -nodes -days 2 -subj '/CN=",
                                         cn, "' -keyout ", f.key, " -out ", f.cert));
  if (!s.ok()) return s;
  return f;
}

}  // namespace

absl::StatusOr<CertFiles> MakeCert(const std::string& dir, const std::string& name,
                                   const std::string& subject_cn, const CertFiles& ca,
                                   int days, bool server) {
  CertFiles f{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  const std::string csr = dir + "/" + name + ".csr";
  const std::string ext = dir + "/" + name + ".ext";
  {
    std::ofstream out(ext);
    out << (server ? "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                     "extendedKeyUsage=serverAuth\n"
                   : "extendedKeyUsage=clientAuth\n");
  }
  absl::Status s = Run(dir, absl::StrCat("openssl req -newkey ec -pkeyopt "
                                         "ec_paramgen_curve:P-256 -nodes -subj '/CN=",
                                         subject_cn, "' -keyout ", f.key, " -out ", csr));
  if (s.ok()) {
    s = Run(dir, absl::StrCat("openssl x509 -req -in ", csr, " -CA ", ca.cert, " -CAkey ",
                              ca.key, " -CAcreateserial -days ", days, " -extfile ", ext,
                              " -out ", f.cert));
  }
  if (!s.ok()) return s;
  return f;
}

absl::StatusOr<TestCerts> MakeTestCerts() {
  TestCerts c;
  c.dir = MakeTempDir("atomix-certs");
  absl::StatusOr<CertFiles> f = MakeCa(c.dir, "ca", "atomix-test-ca");
  if (!f.ok()) return f.status();
  c.ca = *f;
  if (f = MakeCa(c.dir, "other-ca", "atomix-other-ca"); !f.ok()) return f.status();
  c.other_ca = *f;
  struct Want {
    CertFiles* out;
    const char* name;
    const char* cn;
    const CertFiles* ca;
    int days;
    bool server;
  } wants[] = {
      {&c.server, "server", "localhost", &c.ca, 2, true},
      {&c.other_server, "other-server", "localhost", &c.other_ca, 2, true},
      {&c.expired_server, "expired-server", "localhost", &c.ca, -1, true},
      {&c.client, "client", "alice", &c.ca, 2, false},
      {&c.expired_client, "expired-client", "alice", &c.ca, -1, false},
      {&c.rogue_client, "rogue-client", "mallory", &c.other_ca, 2, false},
  };
  for (const Want& w : wants) {
    f = MakeCert(c.dir, w.name, w.cn, *w.ca, w.days, w.server);
    if (!f.ok()) return f.status();
    *w.out = *f;
  }
  return c;
}

}  // namespace atomix::testing
