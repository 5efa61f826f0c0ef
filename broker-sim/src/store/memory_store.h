// MemoryStore: the Store that keeps every primitive in process memory.
//
// A registry maps each name to the type it is bound to and its state machine.
// A name is bound by Open or by its first mutation; reads of an unknown name
// see an empty primitive of the requested type and bind nothing, so reads
// never grow the registry. Binding a name takes no revision.
//
// Thread-safety: thread-safe. One mutex serializes every batch, which makes
// each batch atomic and every primitive linearizable.
#ifndef ATOMIX_BROKER_STORE_MEMORY_STORE_H_
#define ATOMIX_BROKER_STORE_MEMORY_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker-sim/src/state/limits.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/store/store.h"

namespace atomix::broker {

class MemoryStore final : public Store {
 public:
  // The logical time handed to state machines for each batch.
  using Clock = std::function<absl::Time()>;

  explicit MemoryStore(Limits limits, Clock clock = &absl::Now);

  void Apply(absl::Span<const v1::Request* const> requests,
             absl::Span<v1::Response* const> responses) override
      ABSL_LOCKS_EXCLUDED(mu_);
  int64_t revision() const override ABSL_LOCKS_EXCLUDED(mu_);
  std::string_view kind() const override { return "memory"; }

  // The number of names bound to a primitive.
  size_t TEST_primitive_count() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void ApplyOne(const v1::Request& request, absl::Time now,
                v1::Response& response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Limits limits_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<StateMachine>> primitives_
      ABSL_GUARDED_BY(mu_);
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STORE_MEMORY_STORE_H_
