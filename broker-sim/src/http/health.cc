// Health endpoints.
#include "broker-sim/src/http/health.h"

#include <string>

#include "absl/status/status.h"
#include "httplib.h"

namespace atomix::broker {

void ServeHealth(httplib::Server& routes, Broker& broker) {
  routes.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  routes.Get("/readyz", [&broker](const httplib::Request&, httplib::Response& res) {
    const absl::Status health = broker.store().Health();
    if (health.ok()) {
      res.set_content("ok\n", "text/plain");
      return;
    }
    res.status = 503;
    res.set_content(std::string(health.message()) + "\n", "text/plain");
  });
}

}  // namespace atomix::broker
