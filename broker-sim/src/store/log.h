// Log: where a store keeps its input records before applying them.
//
// A store with a log appends each input record (engine/engine.h) before the
// engine applies it, and answers, or lets anyone see the result, only once
// WaitDurable says the record is as safe as the log promises. The memory
// store has no log; the disk store's is a write-ahead log of checksummed
// segments (disk/wal.h); an etcd store's would be an etcd cluster.
//
// Thread-safety: Append is called by one thread at a time (under the store's
// lock); WaitDurable and WhenDurable from any thread.
#ifndef ATOMIX_BROKER_STORE_LOG_H_
#define ATOMIX_BROKER_STORE_LOG_H_

#include <cstdint>
#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/log/v1/record.pb.h"

namespace atomix::broker {

class Log {
 public:
  virtual ~Log() = default;

  // Appends `record` and returns its position (positions increase by one
  // per record). On failure nothing is appended: RESOURCE_EXHAUSTED when the
  // disk is full, naming it; UNAVAILABLE or INTERNAL otherwise.
  virtual absl::StatusOr<uint64_t> Append(
      const atomix::log::v1::InputRecord& record) = 0;

  // Returns once the record at `position` (and every one before it) is as
  // durable as the log's sync mode promises. Never fails: a log that cannot
  // make a record durable stops the process, since its state would no
  // longer match what it acknowledged.
  virtual void WaitDurable(uint64_t position) = 0;

  // Calls `fn` once the record at `position` is durable, as WaitDurable
  // would return: at once on this thread if it is, else later on a thread
  // of the log's. `fn` must not call back into the log. By default waits
  // here.
  virtual void WhenDurable(uint64_t position, std::function<void()> fn) {
    WaitDurable(position);
    fn();
  }

  // "disk", ...
  virtual std::string_view kind() const = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STORE_LOG_H_
