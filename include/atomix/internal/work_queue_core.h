// Internal: the bytes-level work queue behind atomix::WorkQueue<T>. Not part
// of the public API. Each method sends one atomix.v1.WorkQueueRequest; see
// atomix/work_queue.h for the semantics.
//
// Thread-safety: WorkQueueCore is an immutable handle (client core + name);
// copies are cheap and every method is safe to call from any thread.
#ifndef ATOMIX_INTERNAL_WORK_QUEUE_CORE_H_
#define ATOMIX_INTERNAL_WORK_QUEUE_CORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/export.h"
#include "atomix/future.h"
#include "atomix/internal/primitive.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"

namespace atomix {

// Declared in atomix/work_queue.h.
struct WorkQueueEvent;

namespace internal {

class ClientCore;

// atomix.v1.WORK_QUEUE = 15.
inline constexpr PrimitiveKind kWorkQueueKind{15, "work queue", "item"};

// A leased item as the broker sent it.
struct ATOMIX_EXPORT RawWorkItem {
  int64_t id = 0;
  std::string value;
  int64_t deliveries = 0;
  Version fence = 0;
  uint64_t session = 0;
};

// What a push answered: the items' ids and its revision.
struct ATOMIX_EXPORT RawPush {
  std::vector<int64_t> ids;
  Version version = 0;
};

// Get: the items queued and leased, and the takes waiting.
struct ATOMIX_EXPORT RawWorkQueueCounts {
  int64_t queued = 0;
  int64_t leased = 0;
  int64_t waiters = 0;
};

class ATOMIX_EXPORT WorkQueueCore {
 public:
  // Opens (creating if needed) the work queue `name` on the broker.
  static absl::StatusOr<WorkQueueCore> Open(std::shared_ptr<ClientCore> core, std::string_view name,
                                            const CallOptions& options);

  const std::string& name() const { return name_; }
  const std::shared_ptr<ClientCore>& client() const { return core_; }

  Future<RawPush> PushAsync(std::vector<std::string> values, const CallOptions& options) const;
  // A waiting take (try_only false: a blocking call whose late lease is
  // released) or a try (nullopt when nothing is queued).
  Future<std::optional<RawWorkItem>> TakeAsync(bool try_only, int64_t visibility_timeout_ms,
                                               const CallOptions& options) const;
  // Ack (release false) or Release item `id` of lease `fence`; the revision.
  Future<Version> SettleAsync(bool release, int64_t id, Version fence,
                              const CallOptions& options) const;
  Future<RawWorkQueueCounts> GetAsync(const CallOptions& options) const;

  // Stopped once `session` is lost (never stopped for session 0 or a core
  // without sessions).
  std::stop_token SessionLostToken(uint64_t session) const;

  absl::StatusOr<Channel<WorkQueueEvent>> Watch(const WatchOptions& options) const;

 private:
  WorkQueueCore(std::shared_ptr<ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}

  std::shared_ptr<ClientCore> core_;
  std::string name_;
};

}  // namespace internal
}  // namespace atomix

#endif  // ATOMIX_INTERNAL_WORK_QUEUE_CORE_H_
