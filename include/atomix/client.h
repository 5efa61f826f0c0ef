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
// UNAVAILABLE naming the endpoint. A read that was in flight when the stream
// broke is sent again; a mutation in flight fails with UNAVAILABLE, because
// it may or may not have been applied.
//
// Thread-safety: Client is a cheap, copyable handle. All copies share one
// connection, which closes when the last handle (including primitives opened
// through it) is gone. All methods are safe to call from any thread.
#ifndef ATOMIX_CLIENT_H_
#define ATOMIX_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atomix {

namespace internal {
class ClientCore;
}

struct ClientOptions {
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
};

class Client {
 public:
  // Connects and waits up to options.connect_timeout for the broker.
  // UNAVAILABLE (naming the endpoints) if none answers in time; the client
  // is not returned then.
  static absl::StatusOr<Client> Connect(ClientOptions options = {});

  // A client that connects in the background; never fails. Calls wait for the
  // connection until their deadline.
  static Client Create(ClientOptions options = {});

  const ClientOptions& options() const;

  // The endpoint the client is connected to now, or empty while disconnected.
  std::string connected_endpoint() const;

  // The broker incarnation seen on the current connection, or empty (always
  // empty with Transport::kUnary, which receives no BrokerInfo).
  std::string broker_id() const;

 private:
  explicit Client(std::shared_ptr<internal::ClientCore> core) : core_(std::move(core)) {}
  friend std::shared_ptr<internal::ClientCore> internal_core(const Client& c);

  std::shared_ptr<internal::ClientCore> core_;
};

// The process-wide default client, created on first use from ATOMIX_BROKER
// (comma-separated host:port list; default 127.0.0.1:5679). Never fails; it
// connects in the background.
Client DefaultClient();

// For primitives: the shared core behind a client handle.
std::shared_ptr<internal::ClientCore> internal_core(const Client& c);

}  // namespace atomix

#endif  // ATOMIX_CLIENT_H_
