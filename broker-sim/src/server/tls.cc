// The broker's TLS credentials: checked PEM files, published to a private
// copy that gRPC's file watcher follows.
#include "broker-sim/src/server/tls.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace atomix::broker {
namespace {

// gRPC re-reads the private copy this often; a reload reaches new
// handshakes within it.
constexpr unsigned int kRefreshSeconds = 1;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

absl::StatusOr<std::string> ReadWhole(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, ": cannot read: ", std::strerror(errno)));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return absl::StrCat(" (", buf, ")");
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::string TimeText(const ASN1_TIME* t) {
  Bio bio(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(bio.get(), t);
  return BioText(bio.get());
}

std::string SubjectText(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  return BioText(bio.get());
}

// Every certificate in `pem`; an error if there is none.
absl::StatusOr<std::vector<Cert>> ParseCerts(const std::string& pem, const std::string& path,
                                             const char* what) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<Cert> certs;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(x);
  }
  ERR_clear_error();  // the end of the input reads as an error
  if (certs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, ": no PEM certificate in it"));
  }
  return certs;
}

absl::Status CheckValidNow(X509* cert, const std::string& path, const char* what) {
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, ": the certificate of ", SubjectText(cert),
                     " expired on ", TimeText(X509_get0_notAfter(cert))));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, ": the certificate of ", SubjectText(cert),
                     " is not valid before ", TimeText(X509_get0_notBefore(cert))));
  }
  return absl::OkStatus();
}

absl::Status WriteNew(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat(path, ": ", std::strerror(errno)));
  const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int saved = errno;
  close(fd);
  if (!ok) return absl::InternalError(absl::StrCat(path, ": ", std::strerror(saved)));
  return absl::OkStatus();
}

void RemoveGeneration(const std::string& dir) {
  for (const char* name : {"/cert.pem", "/key.pem", "/ca.pem"}) {
    unlink((dir + name).c_str());
  }
  rmdir(dir.c_str());
}

}  // namespace

absl::StatusOr<TlsMaterial> ReadTlsMaterial(const TlsFiles& files) {
  if (files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
  }
  TlsMaterial m;
  absl::StatusOr<std::string> cert = ReadWhole(files.cert, "--tls-cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadWhole(files.key, "--tls-key");
  if (!key.ok()) return key.status();
  m.cert = *std::move(cert);
  m.key = *std::move(key);

  absl::StatusOr<std::vector<Cert>> chain = ParseCerts(m.cert, files.cert, "--tls-cert");
  if (!chain.ok()) return chain.status();
  X509* leaf = chain->front().get();
  if (absl::Status valid = CheckValidNow(leaf, files.cert, "--tls-cert"); !valid.ok()) {
    return valid;
  }
  Bio key_bio(BIO_new_mem_buf(m.key.data(), static_cast<int>(m.key.size())));
  Key pkey(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-key ", files.key, ": no unencrypted PEM private key in it", OpenSslError()));
  }
  if (X509_check_private_key(leaf, pkey.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key ", files.key, ": does not match the certificate in ",
                     files.cert, " (", SubjectText(leaf), ")"));
  }
  m.subject = SubjectText(leaf);
  m.not_after = TimeText(X509_get0_notAfter(leaf));

  if (!files.client_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadWhole(files.client_ca, "--tls-client-ca");
    if (!ca.ok()) return ca.status();
    m.client_ca = *std::move(ca);
    absl::StatusOr<std::vector<Cert>> cas =
        ParseCerts(m.client_ca, files.client_ca, "--tls-client-ca");
    if (!cas.ok()) return cas.status();
  }
  return m;
}

absl::StatusOr<std::unique_ptr<ServerTls>> ServerTls::Load(const TlsFiles& files) {
  absl::StatusOr<TlsMaterial> material = ReadTlsMaterial(files);
  if (!material.ok()) return material.status();

  std::unique_ptr<ServerTls> tls(new ServerTls(files));
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp",
                                     "/atomix-broker-tls-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create a private directory for TLS files (", pattern,
                     "): ", std::strerror(errno)));
  }
  tls->dir_ = pattern;
  {
    absl::MutexLock lock(&tls->mu_);
    if (absl::Status published = tls->Publish(*material); !published.ok()) return published;
  }

  const std::string current = tls->dir_ + "/current";
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
  if (tls->mutual()) {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        current + "/key.pem", current + "/cert.pem", current + "/ca.pem", kRefreshSeconds);
  } else {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        current + "/key.pem", current + "/cert.pem", kRefreshSeconds);
  }
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (tls->mutual()) {
    options.watch_root_certs();
    options.set_cert_request_type(
        files.require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                  : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  tls->credentials_ = grpc::experimental::TlsServerCredentials(options);
  return tls;
}

ServerTls::~ServerTls() {
  if (dir_.empty()) return;
  absl::MutexLock lock(&mu_);
  unlink((dir_ + "/current").c_str());
  for (int g = generation_ - 1; g <= generation_; ++g) {
    RemoveGeneration(absl::StrCat(dir_, "/gen-", g));
  }
  rmdir(dir_.c_str());
}

absl::Status ServerTls::Publish(const TlsMaterial& m) {
  const int next = generation_ + 1;
  const std::string name = absl::StrCat("gen-", next);
  const std::string gen = absl::StrCat(dir_, "/", name);
  if (mkdir(gen.c_str(), 0700) != 0) {
    return absl::InternalError(absl::StrCat(gen, ": ", std::strerror(errno)));
  }
  absl::Status written = WriteNew(gen + "/key.pem", m.key);
  if (written.ok()) written = WriteNew(gen + "/cert.pem", m.cert);
  if (written.ok() && !m.client_ca.empty()) written = WriteNew(gen + "/ca.pem", m.client_ca);
  // One rename switches all three files at once.
  const std::string link = dir_ + "/current.new";
  unlink(link.c_str());
  if (written.ok() && symlink(name.c_str(), link.c_str()) != 0) {
    written = absl::InternalError(absl::StrCat(link, ": ", std::strerror(errno)));
  }
  if (written.ok() && rename(link.c_str(), (dir_ + "/current").c_str()) != 0) {
    written = absl::InternalError(absl::StrCat(dir_, "/current: ", std::strerror(errno)));
  }
  if (!written.ok()) {
    unlink(link.c_str());
    RemoveGeneration(gen);
    return written;
  }
  // The watcher may still be reading the previous generation; the one
  // before it is certainly done with.
  if (generation_ >= 1) RemoveGeneration(absl::StrCat(dir_, "/gen-", generation_ - 1));
  generation_ = next;
  description_ = absl::StrCat(m.subject, ", valid until ", m.not_after);
  return absl::OkStatus();
}

absl::Status ServerTls::Reload() {
  absl::StatusOr<TlsMaterial> material = ReadTlsMaterial(files_);
  if (!material.ok()) return material.status();
  absl::MutexLock lock(&mu_);
  return Publish(*material);
}

std::string ServerTls::Describe() const {
  absl::MutexLock lock(&mu_);
  return description_;
}

}  // namespace atomix::broker
