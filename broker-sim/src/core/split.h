// Splitting a ResponseBatch into messages of bounded size, so that a batch of
// large responses (pages, big values) never exceeds the transport's message
// limit and can be written piece by piece.
//
// Thread-safety: stateless.
#ifndef ATOMIX_BROKER_CORE_SPLIT_H_
#define ATOMIX_BROKER_CORE_SPLIT_H_

#include <cstddef>
#include <vector>

#include "atomix/v1/broker.pb.h"

namespace atomix::broker {

// Splits `batch` into consecutive batches of about `max_bytes` serialized
// bytes each, keeping response order; `info`, if set, stays in the first. A
// single response larger than `max_bytes` gets a batch of its own. Returns
// `batch` itself, unsplit, when it already fits.
std::vector<v1::ResponseBatch> SplitResponseBatch(v1::ResponseBatch batch,
                                                  size_t max_bytes);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CORE_SPLIT_H_
