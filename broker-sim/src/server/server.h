// BrokerServer: binds the gRPC server that fronts a Broker: the
// atomix.v1.Broker service, the standard health service and server
// reflection.
//
//   absl::StatusOr<std::unique_ptr<BrokerServer>> server =
//       BrokerServer::Start(broker, {.listen = "127.0.0.1:0"});
//   int port = (*server)->port();
//   ...
//   (*server)->Shutdown(absl::Seconds(2));
//
// Besides gRPC's threads the server runs one ticker thread that moves the
// broker's logical time forward (ServerOptions::tick_interval), delivers
// the late answers that produces, and follows the store's health: the
// health service says NOT_SERVING while the store cannot serve, and when it
// stops serving every open Stream and Watch is reset so that clients move
// to another broker. The watch hub runs a thread too, which the store's
// change listener feeds while the server runs.
//
// Thread-safety: Start and Shutdown are called from one thread; the server
// itself serves from gRPC's threads; ExpireAllSessions and ResetCalls may be
// called from any thread. The Broker must outlive the server, and nothing
// else may set the store's change listener while it runs.
#ifndef ATOMIX_BROKER_SERVER_SERVER_H_
#define ATOMIX_BROKER_SERVER_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/server/admin_service.h"
#include "broker-sim/src/server/auth.h"
#include "broker-sim/src/server/broker_service.h"
#include "broker-sim/src/server/faults.h"
#include "broker-sim/src/server/stream_reactor.h"

namespace grpc {
class Server;
class ServerCredentials;
}  // namespace grpc

namespace atomix::broker {

struct ServerOptions {
  // A gRPC address: "127.0.0.1:5679", "[::]:0", "unix:/path"...
  std::string listen = "127.0.0.1:5679";
  int max_message_bytes = 64 << 20;
  // HTTP/2 streams (Stream and Watch calls) one connection may have open at
  // once; a client's further calls wait in its own transport.
  int max_streams_per_connection = 1024;
  // gRPC's ResourceQuota: the memory its transports may hold in buffers,
  // across all connections; past it gRPC refuses new calls and shrinks
  // what it reads.
  int64_t grpc_memory_bytes = int64_t{1} << 30;
  StreamOptions stream;
  WatchOptions watch;
  FaultOptions faults;
  // The broker's logical clock: read by the ticker, which calls
  // Broker::Tick every `tick_interval` (session expiry, TTL entries, lock
  // waiter timeouts). It should be the clock the Store was given.
  std::function<absl::Time()> clock = &absl::Now;
  absl::Duration tick_interval = absl::Milliseconds(100);
  // Who each call is (auth.h); null: everyone is anonymous.
  std::shared_ptr<const Authenticator> authenticator;
  // The listening port's security (tls.h: ServerTls::credentials()); null:
  // plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials;
};

class BrokerServer {
 public:
  // Binds and starts serving; UNAVAILABLE if the address cannot be bound
  // (in use or invalid), with the reason when it can be found.
  static absl::StatusOr<std::unique_ptr<BrokerServer>> Start(
      Broker& broker, const ServerOptions& options);

  ~BrokerServer();

  // The bound TCP port (useful with port 0).
  int port() const { return port_; }

  // What only this process knows of the broker (uptime, open calls), for
  // operators' views (inspect.h).
  const BrokerProcess& process() const { return process_; }

  // Wakes watchers of the names that change (for the HTTP console's event
  // streams); lives as long as the server.
  WatchHub& watch_hub() { return service_->hub(); }

  // Ends every session now and delivers what that completes.
  void ExpireAllSessions();

  // Cancels every open Broker.Stream and Broker.Watch call at once (fault
  // injection); returns how many.
  size_t ResetCalls();

  // Ends every watch (UNAVAILABLE), stops accepting calls, waits up to
  // `grace` for calls in flight, then cancels the rest. Safe to call more
  // than once.
  void Shutdown(absl::Duration grace);

 private:
  explicit BrokerServer(Broker& broker);
  void RunTicker(std::function<absl::Time()> clock, absl::Duration interval);

  Broker& broker_;
  std::unique_ptr<BrokerService> service_;
  BrokerProcess process_;
  std::unique_ptr<AdminService> admin_;
  absl::Notification stop_ticker_;
  std::thread ticker_;
  std::unique_ptr<grpc::Server> server_;  // destroyed before service_
  int port_ = 0;
  bool listening_ = false;  // the store's change listener points at us
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_SERVER_H_
