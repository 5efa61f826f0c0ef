// Health endpoints of the broker's HTTP server, for load balancers and
// orchestrators:
//
//   GET /healthz  200 "ok" while the process serves HTTP (liveness).
//   GET /readyz   200 "ok" while the store can serve (Store::Health), else
//                 503 with the problem, e.g. "etcd unreachable: ..." (readiness).
//
// Thread-safety: the handlers run on the HTTP server's threads, several at
// once; Store::Health is thread-safe. `broker` must outlive the server.
#ifndef ATOMIX_BROKER_HTTP_HEALTH_H_
#define ATOMIX_BROKER_HTTP_HEALTH_H_

#include "broker-sim/src/core/broker.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace atomix::broker {

void ServeHealth(httplib::Server& routes, Broker& broker);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_HTTP_HEALTH_H_
