// Store: where primitive state lives and where requests are applied.
//
// The memory store keeps every primitive's pure state machine in process
// memory. A durable store (planned) logs each applied batch to an embedded
// engine before answering; an etcd store (planned) maps primitives onto etcd
// keys and transactions. All of them hand out one broker-wide revision that
// every mutation raises by one.
//
// Thread-safety: Apply() may be called from any thread; batches are applied
// one at a time.
#ifndef ATOMIX_BROKER_STORE_STORE_H_
#define ATOMIX_BROKER_STORE_STORE_H_

#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "atomix/v1/broker.pb.h"

namespace atomix::broker {

struct Limits;

class Store {
 public:
  virtual ~Store() = default;

  // Applies `requests` in order, atomically with respect to every other
  // Apply call, writing responses[i] for requests[i]. Each request that
  // changes state gets the next revision. Requests are already validated
  // (name, sizes, op matches type).
  virtual void Apply(absl::Span<const v1::Request* const> requests,
                     absl::Span<v1::Response* const> responses) = 0;

  // The latest revision handed out (0 before the first mutation).
  virtual int64_t revision() const = 0;

  // "memory", ...
  virtual std::string_view kind() const = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STORE_STORE_H_
