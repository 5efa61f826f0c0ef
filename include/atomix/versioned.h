// Versions and versioned values.
//
//   auto v = value.Get();                    // StatusOr<std::optional<Versioned<T>>>
//   if (v.ok() && *v) use((*v)->value, (*v)->version);
//
// A Version is the broker revision at which an entry was last written. The
// broker raises one broker-wide revision on every mutation, so versions are
// unique across all primitives and comparable with each other.
//
// Thread-safety: plain value types.
#ifndef ATOMIX_VERSIONED_H_
#define ATOMIX_VERSIONED_H_

#include <cstdint>
#include <utility>

#include "atomix/export.h"

namespace atomix {

using Version = int64_t;

template <class T>
struct Versioned {
  T value{};
  Version version = 0;

  friend bool operator==(const Versioned&, const Versioned&) = default;
};

// Result of a mutation on a Set: whether it changed anything, and the
// revision at which it did (or the element's current version when it did
// not, or 0).
struct ATOMIX_EXPORT Change {
  bool changed = false;
  Version version = 0;

  friend bool operator==(const Change&, const Change&) = default;
};

}  // namespace atomix

#endif  // ATOMIX_VERSIONED_H_
