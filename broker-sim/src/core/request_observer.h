// RequestObserver: told about every request batch the broker answers, for
// metrics. The broker core calls it; it knows nothing of how the numbers
// are kept (http/metrics.h implements it with prometheus-cpp).
//
//   class Counting final : public RequestObserver {
//     void OnBatch(absl::Span<const RequestOutcome> outcomes,
//                  absl::Duration took) override { ... }
//   };
//   broker.SetObserver(&counting);  // before serving
//
// Thread-safety: OnBatch is called from any thread (gRPC's and the
// store's), several at once; implementations must be thread-safe and quick,
// since the batch's answer waits for them.
#ifndef ATOMIX_BROKER_CORE_REQUEST_OBSERVER_H_
#define ATOMIX_BROKER_CORE_REQUEST_OBSERVER_H_

#include <cstdint>

#include "absl/time/time.h"
#include "absl/types/span.h"

namespace atomix::broker {

// What one request of a batch was, and how it was answered. Plain numbers
// taken from the request and its response, so that an observer can index
// fixed tables without building strings.
struct RequestOutcome {
  // Request.type as sent (any int32; not necessarily a known type).
  int32_t type = 0;
  // The field number of Request.op's case (v1::Request::OpCase), 0 if unset.
  int op = 0;
  // The field number of the case of the op message's own oneof (for
  // CounterRequest: get = 1, set = 2, ...), 0 if it has none or it is unset.
  int sub_op = 0;
  // The response's gRPC status code (0 = OK), or kWaiting for a request
  // that waits (a blocked lock acquire): it is answered later.
  int code = 0;

  static constexpr int kWaiting = -1;
};

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // One call per batch, once the broker has its answers: one outcome per
  // request, in request order, and the time from the batch's arrival at
  // the broker core to its answer (validation, the store, and with a
  // durable store the wait for the log).
  virtual void OnBatch(absl::Span<const RequestOutcome> outcomes,
                       absl::Duration took) = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CORE_REQUEST_OBSERVER_H_
