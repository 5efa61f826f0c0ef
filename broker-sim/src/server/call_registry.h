// CallRegistry: the open long-lived calls (Broker.Stream and Broker.Watch),
// so that fault injection can reset them all at once (SIGUSR2).
//
// A reactor registers its call's context when it starts and unregisters it
// in OnDone, before deleting itself. CancelAll calls TryCancel on every
// registered context with the registry's mutex held, and Unregister takes
// that mutex, so a context is never touched after its OnDone. (gRPC never
// runs OnDone inline from TryCancel; reactors must not call into the
// registry from OnCancel.)
//
// Thread-safety: thread-safe.
#ifndef ATOMIX_BROKER_SERVER_CALL_REGISTRY_H_
#define ATOMIX_BROKER_SERVER_CALL_REGISTRY_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"

namespace atomix::broker {

class CallRegistry {
 public:
  // A new id (never 0) for the call of `context`.
  uint64_t Register(grpc::ServerContextBase* context) ABSL_LOCKS_EXCLUDED(mu_);
  void Unregister(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);
  // Cancels every registered call (the client sees CANCELLED); returns how
  // many.
  size_t CancelAll() ABSL_LOCKS_EXCLUDED(mu_);
  // Registered calls now.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, grpc::ServerContextBase*> calls_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_CALL_REGISTRY_H_
