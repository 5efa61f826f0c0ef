// The data dir's meta file, DATA_DIR/meta: the broker id, the session id
// base and the session key (32 hex digits; engine/session_ids.h), one
// "key value" line each, written once when the dir is created (or
// restored) and read at every start. A dir created before session keys
// has no key line: its session ids stay session_id_base + a counter.
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_BROKER_DISK_META_H_
#define ATOMIX_BROKER_DISK_META_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace atomix::broker {

struct Meta {
  std::string broker_id;
  uint64_t session_id_base = 0;
  // Raw bytes (kSessionKeyBytes), or empty for an old dir.
  std::string session_key;
};

// Writes DIR/meta atomically.
absl::Status WriteMeta(const std::string& dir, const Meta& meta);

// Reads DIR/meta, or creates it with a new broker id and session id base
// if there is none. DATA_LOSS naming the file if it is damaged.
absl::StatusOr<Meta> ReadOrCreateMeta(const std::string& dir);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_DISK_META_H_
