// PeerLimit: counts open calls of one kind per client connection and refuses
// a call past the limit. A client is its connection, as gRPC names it
// (ServerContext::peer(), "ipv4:127.0.0.1:53412"): every principal on one
// connection shares the count, and a client that opens several connections
// gets the limit on each (the connections themselves are bounded by the
// operating system and the gRPC memory quota).
//
//   PeerLimit watches(limit, "--max-watches-per-client");
//   if (absl::Status ok = watches.Acquire(peer); !ok.ok()) return Refuse(ok);
//   ...  // when the call ends:
//   watches.Release(peer);
//
// Thread-safety: thread-safe.
#ifndef ATOMIX_BROKER_SERVER_PEER_LIMIT_H_
#define ATOMIX_BROKER_SERVER_PEER_LIMIT_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace atomix::broker {

class PeerLimit {
 public:
  // `limit` 0 means no limit. `flag` names the setting in errors.
  PeerLimit(size_t limit, std::string flag, std::string what)
      : limit_(limit), flag_(std::move(flag)), what_(std::move(what)) {}

  // Counts one more call for `peer`, or returns RESOURCE_EXHAUSTED naming
  // the flag when `peer` already has `limit` calls open.
  absl::Status Acquire(const std::string& peer) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    size_t& open = open_[peer];
    if (limit_ > 0 && open >= limit_) {
      if (open == 0) open_.erase(peer);
      return absl::ResourceExhaustedError(absl::StrCat(
          "client ", peer, " already has ", limit_, " open ", what_,
          ", the most ", flag_, " allows; end one first"));
    }
    ++open;
    return absl::OkStatus();
  }

  // Ends one call counted by Acquire.
  void Release(const std::string& peer) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto it = open_.find(peer);
    if (it == open_.end()) return;
    if (--it->second == 0) open_.erase(it);
  }

  // Clients with at least one call open.
  size_t clients() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return open_.size();
  }

 private:
  const size_t limit_;
  const std::string flag_;
  const std::string what_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, size_t> open_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_PEER_LIMIT_H_
