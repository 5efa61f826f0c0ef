// NewClientCore: picks the transport and fills in defaults.
#include "sdk/src/client_core.h"

#include <algorithm>
#include <utility>

#include "sdk/src/endpoints.h"
#include "sdk/src/stream_transport.h"
#include "sdk/src/unary_transport.h"

namespace atomix::internal {

std::shared_ptr<ClientCore> NewClientCore(ClientOptions options) {
  options.endpoints = ResolveEndpoints(std::move(options.endpoints));
  options.max_batch_requests = std::max(1, options.max_batch_requests);
  options.session_ttl = std::max<std::chrono::milliseconds>(options.session_ttl,
                                                            std::chrono::seconds(1));
  if (options.transport == ClientOptions::Transport::kUnary) {
    return std::make_shared<UnaryCore>(std::move(options));
  }
  return std::make_shared<StreamCore>(std::move(options));
}

}  // namespace atomix::internal
