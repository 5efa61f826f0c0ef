// HttpServer: the broker's HTTP endpoint (--http-listen): metrics, health
// and the web console, on cpp-httplib.
//
// Routes are registered on routes() before Start; Start binds and serves
// from a pool of threads until Stop (or destruction). A connection holds a
// thread while open; an idle keep-alive connection is closed after 2 s, a
// request must arrive within 5 s, and bodies above 64 KiB are refused.
// Connections beyond the threads wait in an unbounded accept queue (a
// limit on them belongs with the broker's other quotas).
//
// Thread-safety: register routes and call Start from one thread; Stop and
// port() may be called from any thread after Start. Handlers run on the
// server's own threads, several at once.
#ifndef ATOMIX_BROKER_HTTP_HTTP_SERVER_H_
#define ATOMIX_BROKER_HTTP_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace atomix::broker {

struct HttpServerOptions {
  // host:port; port 0 picks a free one (see port()).
  std::string listen;
  // Requests served at once; more wait for a thread. Long-lived event
  // streams hold a thread each, so this also bounds them.
  int threads = 8;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  httplib::Server& routes() { return *server_; }

  // Binds and starts serving. INVALID_ARGUMENT for an address that is not
  // host:port, UNAVAILABLE if it cannot be bound.
  absl::Status Start();
  // The bound port (after Start).
  int port() const { return port_; }
  // Stops accepting and waits for the serving thread; idempotent.
  void Stop();

 private:
  const HttpServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_HTTP_HTTP_SERVER_H_
