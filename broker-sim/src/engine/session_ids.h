// Session ids: 64 unpredictable bits, a keyed pseudo-random function of a
// secret key and the engine's open counter.
//
//   const uint64_t id = SessionIdFor(key, counter);  // SipHash-2-4
//
// The key is 16 bytes drawn from the OS CSPRNG when a data dir or etcd
// cluster is created (NewSessionKey in core/broker.h) and kept with its meta
// and in every snapshot, so every broker replaying the same records hands
// out the same ids, and nobody without the key can predict the next one
// from the ids they saw. An empty key (data dirs and clusters created before
// keys existed) gives the old ids: base + counter.
//
// Thread-safety: stateless functions.
#ifndef ATOMIX_BROKER_ENGINE_SESSION_IDS_H_
#define ATOMIX_BROKER_ENGINE_SESSION_IDS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace atomix::broker {

// Bytes of a session key.
inline constexpr size_t kSessionKeyBytes = 16;

// SipHash-2-4 of the 8 little-endian bytes of `counter` under `key`, which
// must hold kSessionKeyBytes bytes.
uint64_t SessionIdFor(std::string_view key, uint64_t counter);

// SipHash-2-4 of `data` under a 16-byte key (for the reference vectors).
uint64_t SipHash24(std::string_view key, std::string_view data);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_ENGINE_SESSION_IDS_H_
