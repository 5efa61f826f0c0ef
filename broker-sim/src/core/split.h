// Splitting a ResponseBatch, or a watch snapshot, into messages of bounded
// size, so that a batch of large responses (pages, big values) or a large
// snapshot never exceeds the transport's message limit and can be written
// piece by piece.
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

// Splits `snapshot` into consecutive WatchResponses of about `max_bytes`
// each, splitting only its entries: every part carries reason and
// revision, the first also the value, version, lock and term; every part
// but the last has more = true. An entry larger than `max_bytes` gets a
// part of its own. Always at least one part.
std::vector<v1::WatchResponse> SplitSnapshot(v1::WatchSnapshot snapshot,
                                             size_t max_bytes);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CORE_SPLIT_H_
