// Page-size rules shared by Map.List and Set.List.
//
// Thread-safety: stateless.
#ifndef ATOMIX_BROKER_STATE_PAGING_H_
#define ATOMIX_BROKER_STATE_PAGING_H_

#include <algorithm>
#include <cstdint>

#include "broker-sim/src/state/limits.h"

namespace atomix::broker {

// The number of entries a List may return: `requested`, or the default when
// it is 0, capped by the maximum; never less than 1.
inline uint32_t PageSize(uint32_t requested, const Limits& limits) {
  const uint32_t size = requested == 0 ? limits.default_page_size : requested;
  return std::max<uint32_t>(1, std::min(size, limits.max_page_size));
}

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_PAGING_H_
