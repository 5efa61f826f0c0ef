// Client handles and the process-wide default client.
#include "atomix/client.h"

#include <chrono>
#include <utility>

#include "sdk/src/client_core.h"

namespace atomix {

absl::StatusOr<Client> Client::Connect(ClientOptions options) {
  const auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  std::shared_ptr<internal::ClientCore> core = internal::NewClientCore(std::move(options));
  absl::Status status = core->WaitConnected(deadline);
  if (!status.ok()) return status;  // The core shuts down here.
  return Client(std::move(core));
}

Client Client::Create(ClientOptions options) {
  return Client(internal::NewClientCore(std::move(options)));
}

const ClientOptions& Client::options() const { return core_->options(); }

std::string Client::connected_endpoint() const { return core_->connected_endpoint(); }

std::string Client::broker_id() const { return core_->broker_id(); }

std::shared_ptr<internal::ClientCore> internal_core(const Client& c) { return c.core_; }

Client DefaultClient() {
  // Created on first use (thread-safe) and deliberately never destroyed:
  // primitives and threads of the application may still use it while static
  // destructors run at exit, and a connection torn down then would race with
  // them. The process exit reclaims it.
  static const Client* const client = new Client(Client::Create());
  return *client;
}

}  // namespace atomix
