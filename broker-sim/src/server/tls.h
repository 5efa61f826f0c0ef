// ServerTls: the broker's TLS credentials, from PEM files an operator names
// (--tls-cert, --tls-key, optionally --tls-client-ca for mutual TLS), and
// re-read when asked (SIGHUP).
//
//   absl::StatusOr<std::unique_ptr<ServerTls>> tls =
//       ServerTls::Load({.cert = "server.crt", .key = "server.key"});
//   if (!tls.ok()) ...exit 1: the message names the file and the problem...
//   options.credentials = (*tls)->credentials();
//   ...on SIGHUP:
//   if (absl::Status s = (*tls)->Reload(); !s.ok()) ...log; the old ones stay...
//
// How a reload reaches gRPC: gRPC 1.51 cannot swap the certificate of a
// running server except through its FileWatcherCertificateProvider, which
// re-reads files every second but, handed a broken file, drops the
// identity and fails every new handshake. So the operator's files are never
// watched directly: Load and Reload read and check them (PEM parses, the
// key matches the certificate, the certificate is valid now, the client CA
// holds a certificate), and only a good set is copied into a private
// directory (mode 0700 under $TMPDIR or /tmp) and published there with one
// atomic rename. The provider watches that copy, so new handshakes use the
// new certificate within about a second of Reload returning; connections
// made before keep the session they negotiated. A bad set changes nothing.
//
// Thread-safety: Reload may run on any thread while gRPC serves; calls to
// Reload are serialized by an internal mutex.
#ifndef ATOMIX_BROKER_SERVER_TLS_H_
#define ATOMIX_BROKER_SERVER_TLS_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace grpc {
class ServerCredentials;
}  // namespace grpc

namespace atomix::broker {

struct TlsFiles {
  std::string cert;       // PEM certificate chain, the server's first
  std::string key;        // PEM private key of that certificate
  std::string client_ca;  // PEM CA certificates; set: clients must present a
                          // certificate they signed (mutual TLS)
  // With client_ca: whether a client without a certificate fails the
  // handshake (true), or may connect and authenticate otherwise, with a
  // bearer token (false; a certificate it presents is still verified).
  bool require_client_cert = true;
};

// The set of PEM texts that `files` names, checked; INVALID_ARGUMENT naming
// the file and what is wrong with it.
struct TlsMaterial {
  std::string cert;
  std::string key;
  std::string client_ca;
  std::string subject;    // of the server certificate, for logs
  std::string not_after;  // of the server certificate, for logs
};
absl::StatusOr<TlsMaterial> ReadTlsMaterial(const TlsFiles& files);

class ServerTls {
 public:
  static absl::StatusOr<std::unique_ptr<ServerTls>> Load(const TlsFiles& files);
  ~ServerTls();  // removes the private copy

  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // For ServerOptions::credentials.
  std::shared_ptr<grpc::ServerCredentials> credentials() const { return credentials_; }

  // Re-reads the files; on an error (which names the file) the previous
  // certificate stays in use.
  absl::Status Reload();

  const TlsFiles& files() const { return files_; }
  bool mutual() const { return !files_.client_ca.empty(); }
  // The current certificate's subject and expiry, for logs.
  std::string Describe() const;

 private:
  explicit ServerTls(TlsFiles files) : files_(std::move(files)) {}
  absl::Status Publish(const TlsMaterial& material) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TlsFiles files_;
  std::string dir_;  // the private copy
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  mutable absl::Mutex mu_;
  int generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::string description_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_TLS_H_
