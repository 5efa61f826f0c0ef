// CompletionRouter: delivers late answers (Completions from the broker core)
// to the stream or call that sent the request.
//
// Each stream reactor or unary call registers itself as a ResponseSink and
// gets an origin id, which it passes to Broker::Execute. Route() hands each
// completion to the sink registered under its origin, or drops it if that
// sink is gone. Unregister() waits for any delivery in progress, so after it
// returns the sink is never called again and may be deleted.
//
// Origins are owned by one router: their high 32 bits are random per router
// (per broker process), the low 32 bits count. Input records carry origins
// into the log, so a waiter recovered from the log after a restart, or
// replayed by another broker, keeps an origin no sink of this router has:
// its late answer is dropped rather than handed to an unrelated stream
// (a client retrying that request is re-attached to its new origin).
//
// Thread-safety: thread-safe. Deliver is called with the router's mutex
// held, so a sink must never call back into the router from Deliver.
#ifndef ATOMIX_BROKER_SERVER_COMPLETION_ROUTER_H_
#define ATOMIX_BROKER_SERVER_COMPLETION_ROUTER_H_

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/store/store.h"

namespace atomix::broker {

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Late answers for this sink, in the order they were produced.
  virtual void Deliver(std::vector<v1::Response> responses) = 0;
};

class CompletionRouter {
 public:
  CompletionRouter();
  // An origin base for tests; 0 picks a random one.
  explicit CompletionRouter(uint64_t base);

  // A new origin id (never 0) for `sink`.
  uint64_t Register(ResponseSink* sink) ABSL_LOCKS_EXCLUDED(mu_);
  void Unregister(uint64_t origin) ABSL_LOCKS_EXCLUDED(mu_);
  // Delivers and clears `completions`.
  void Route(std::vector<Completion>& completions) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, ResponseSink*> sinks_ ABSL_GUARDED_BY(mu_);
  uint64_t next_origin_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_COMPLETION_ROUTER_H_
