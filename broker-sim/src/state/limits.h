// Limits: the sizes the broker accepts and the page sizes it serves. One value
// is shared, read-only, by the validator, the store and every state machine.
//
// Thread-safety: a plain value type; copies are independent.
#ifndef ATOMIX_BROKER_STATE_LIMITS_H_
#define ATOMIX_BROKER_STATE_LIMITS_H_

#include <cstdint>

namespace atomix::broker {

struct Limits {
  int64_t max_value_bytes = 1 << 20;  // --max-value-bytes
  int64_t max_key_bytes = 4096;       // map keys and set elements
  int64_t max_name_bytes = 256;       // primitive names
  uint32_t default_page_size = 1000;  // List with limit 0
  uint32_t max_page_size = 10000;     // List limits above this are capped
  int64_t max_page_bytes = 1 << 20;   // a List page ends once it holds this
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_LIMITS_H_
