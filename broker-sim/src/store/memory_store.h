// MemoryStore: the engine in process memory, with no log. Nothing survives
// a restart: a restarted broker starts with no state, an empty watch
// history and a new broker id. See engine_store.h.
//
// Revisions start above `first_revision`. The broker passes a base derived
// from the wall clock (microseconds since the epoch) so that fences and
// terms of a restarted memory broker are higher than any an earlier run on
// this machine handed out, as long as that run made fewer than a million
// revisions a second and the clock did not step back across the restart.
//
// Thread-safety: thread-safe (as EngineStore).
#ifndef ATOMIX_BROKER_STORE_MEMORY_STORE_H_
#define ATOMIX_BROKER_STORE_MEMORY_STORE_H_

#include <cstdint>
#include <string>
#include <utility>

#include "broker-sim/src/store/engine_store.h"

namespace atomix::broker {

class MemoryStore final : public EngineStore {
 public:
  explicit MemoryStore(Limits limits, Clock clock = &absl::Now,
                       uint64_t session_id_base = 0,
                       WatchHistoryOptions history = {},
                       int64_t first_revision = 0,
                       std::string session_key = "")
      : EngineStore(limits, std::move(clock), session_id_base, history, nullptr,
                    first_revision, std::move(session_key)) {}
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STORE_MEMORY_STORE_H_
