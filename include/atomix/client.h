// Client: one connection to an atomix broker, shared by every primitive
// opened through it.
//
//   atomix::ClientOptions opts;
//   opts.endpoints = {"10.0.0.5:5679"};
//   absl::StatusOr<atomix::Client> client = atomix::Client::Connect(opts);
//   auto jobs = atomix::GetCounter(*client, "jobs");
//
// Or, with no setup, the process-wide default client that reads the endpoint
// from ATOMIX_BROKER (default 127.0.0.1:5679):
//
//   auto jobs = atomix::GetCounter("jobs");
//
// A client keeps one long-lived gRPC stream to the broker. Concurrent calls
// from any number of threads share it: calls issued while a previous batch is
// being written are coalesced into the next message. When the stream breaks
// (broker restart, network fault), the client reconnects by itself, trying
// the endpoints in order with capped backoff. Calls made while disconnected
// wait for the connection until their deadline and then fail with
// UNAVAILABLE naming the endpoint.
//
// Sessions (atomix/session.h, docs/sessions.md): the stream transport opens a
// broker session once connected and keeps it alive from a thread of its own.
// Every request carries the session id, and every mutation a sequence
// number, so a call in flight when the stream breaks is sent again after
// reconnecting, and a call whose answer has not come within a resend interval
// (100 ms, doubling up to 2 s) is sent again on the live stream; the broker
// applies each mutation at most once. A mutation in flight
// fails with ABORTED when the session is lost before it is answered (it may
// or may not have been applied). Against a broker without session support
// the client runs without a session (session_id() == 0): reads in flight are
// sent again and mutations in flight fail with UNAVAILABLE.
//
// Watches (atomix/watch.h) are gRPC server streams on a second connection
// of the client, one HTTP/2 stream per watch; they reconnect and resume by
// themselves.
//
// Security (docs/security.md): with `tls` set, every connection of the
// client (the stream, the watch connection and the unary transport) uses
// TLS and checks the broker's certificate against `tls.root_ca_*`; with a
// client certificate it also proves who it is (mutual TLS). A `token` is
// sent on every call as "authorization: Bearer <token>", and only over TLS.
//
//   atomix::ClientOptions opts;
//   opts.endpoints = {"broker.example:5679"};
//   opts.tls.emplace();
//   opts.tls->root_ca_file = "/etc/atomix/ca.crt";   // who signs the broker
//   opts.tls->cert_file = "client.crt";              // mutual TLS only
//   opts.tls->key_file = "client.key";
//   if (const char* t = std::getenv("ATOMIX_TOKEN")) opts.token = t;  // --auth token
//   absl::StatusOr<atomix::Client> client = atomix::Client::Connect(opts);
//
// Connect reads the files once (INVALID_ARGUMENT naming a file it cannot
// read, a certificate without its key, or a token without TLS). A broker
// whose certificate the client does not trust, or that refuses the
// client's certificate, fails Connect and calls with UNAVAILABLE naming the
// endpoint and gRPC's reason (e.g. "Ssl handshake failed ...
// CERTIFICATE_VERIFY_FAILED"); a broker that refuses the token fails them
// with UNAUTHENTICATED naming what it missed ("unknown bearer token").
//
// Thread-safety: Client is a cheap, copyable handle. All copies share one
// connection, which closes when the last handle (including primitives opened
// through it) is gone; watch channels do not keep it open, and are closed
// (status CANCELLED "client closed") when it goes. All methods are safe to
// call from any thread.
#ifndef ATOMIX_CLIENT_H_
#define ATOMIX_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/channel.h"
#include "atomix/export.h"
#include "atomix/session.h"

namespace atomix {

namespace internal {
class ClientCore;
}

struct ATOMIX_EXPORT ClientOptions {
  enum class Transport {
    // One bidirectional stream with request coalescing (the default).
    kStream,
    // One unary gRPC call per operation (for comparison and for debugging).
    kUnary,
  };

  // host:port of the broker(s), tried in order. Empty means ATOMIX_BROKER, or
  // 127.0.0.1:5679.
  std::vector<std::string> endpoints;
  // How long Connect() waits for the first connection.
  std::chrono::milliseconds connect_timeout{5000};
  // The deadline of a call whose CallOptions name none.
  std::chrono::milliseconds default_call_timeout{10000};
  Transport transport = Transport::kStream;
  // Upper bound on the requests coalesced into one message.
  int max_batch_requests = 1024;
  // Threads that run the continuations of asynchronous calls (then() and
  // co_await; see atomix/future.h), started on the first one. Clamped to
  // [1, 64].
  int callback_threads = 2;
  // How long the broker keeps the session (and its locks) without hearing
  // from the client. At least 1 s: Connect() fails with INVALID_ARGUMENT
  // below that, and Create() raises it to 1 s. The client sends a keep-alive
  // every session_ttl / 3. (Ignored by Transport::kUnary, which holds no
  // session.)
  std::chrono::milliseconds session_ttl{10000};

  // TLS to the broker; unset: plaintext. A *_pem field holds PEM text and
  // wins over its *_file.
  struct Tls {
    // The CA certificates that sign the broker's certificate; both empty:
    // the system's trusted roots.
    std::string root_ca_file;
    std::string root_ca_pem;
    // Mutual TLS: this client's certificate (chain) and its private key;
    // empty: no client certificate.
    std::string cert_file;
    std::string cert_pem;
    std::string key_file;
    std::string key_pem;
  };
  std::optional<Tls> tls;
  // Sent as "authorization: Bearer <token>" with every call; needs tls.
  // Empty: none.
  std::string token;
};

class ATOMIX_EXPORT Client {
 public:
  // Connects and waits up to options.connect_timeout for the broker and its
  // session. UNAVAILABLE (naming the endpoints) if none answers in time, and
  // INVALID_ARGUMENT for a session_ttl under 1 s; the client is not returned
  // then.
  static absl::StatusOr<Client> Connect(ClientOptions options = {});

  // A client that connects in the background; never fails. Calls wait for the
  // connection until their deadline. With settings Connect would refuse (a
  // TLS file that cannot be read, a token without TLS) it never connects:
  // it neither falls back to the system's roots or to plaintext nor sends
  // the token, and its calls fail when their deadline passes.
  static Client Create(ClientOptions options = {});

  const ClientOptions& options() const;

  // The endpoint the client is connected to now, or empty while disconnected.
  std::string connected_endpoint() const;

  // The broker incarnation seen on the current connection, or empty (always
  // empty with Transport::kUnary, which receives no BrokerInfo).
  std::string broker_id() const;

  // The state of the client's session (see atomix/session.h). Before the
  // first session is open it is kSuspended. A client without a session
  // (Transport::kUnary, or a broker without session support) reports
  // kConnected.
  SessionState session_state() const;

  // The id of the current session, or 0 while none is open.
  uint64_t session_id() const;

  // A handle to the current session (id 0 while none is open). Like every
  // handle, it keeps the connection alive.
  Session session() const;

  // A new channel that receives every later change of session_state(), in
  // order. Its overflow policy drops the oldest change (counted by
  // Channel::dropped()). The client closes it when the connection closes;
  // close it yourself to stop watching.
  Channel<SessionState> WatchSessionState(size_t capacity = 16) const;

  // Runs `callback` on a dedicated thread for every later change of
  // session_state(), until the returned Subscription is cancelled or
  // destroyed (see atomix/channel.h for the callback-thread contract).
  [[nodiscard]] Subscription OnSessionStateChange(
      std::function<void(SessionState)> callback) const;

 private:
  explicit Client(std::shared_ptr<internal::ClientCore> core) : core_(std::move(core)) {}
  friend std::shared_ptr<internal::ClientCore> internal_core(const Client& c);

  std::shared_ptr<internal::ClientCore> core_;
};

// The process-wide default client, created on first use from ATOMIX_BROKER
// (comma-separated host:port list; default 127.0.0.1:5679). Never fails; it
// connects in the background.
//
// It is never destroyed (threads may still use it while static destructors
// run), but its session does not outlive the process: a normal exit (return
// from main, or exit()) closes it, and so do SIGTERM and SIGINT unless the
// application installed its own handler for them before DefaultClient() was
// first called. Locks, leadership and ephemeral entries of the session then
// pass on at once instead of after the session TTL. On such a signal the
// client closes its session (waiting at most 500 ms for the broker) and then
// lets the signal end the process as it would have. A process killed
// otherwise (SIGKILL, a crash, _exit) leaves the session to expire.
ATOMIX_EXPORT Client DefaultClient();

// Closes the default client's session now, if DefaultClient() was ever
// called, waiting at most `grace` for the broker; afterwards the default
// client opens no new session, and calls through it that need one fail.
// For applications that manage their own exit (a SIGTERM handler of their
// own, _exit, quick_exit). Safe from any thread, any number of times; it
// must not be called from a signal handler.
ATOMIX_EXPORT void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(500));

// For primitives: the shared core behind a client handle.
ATOMIX_EXPORT std::shared_ptr<internal::ClientCore> internal_core(const Client& c);

}  // namespace atomix

#endif  // ATOMIX_CLIENT_H_
