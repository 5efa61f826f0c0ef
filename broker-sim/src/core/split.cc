// ResponseBatch splitting.
#include "broker-sim/src/core/split.h"

#include <utility>

namespace atomix::broker {

std::vector<v1::ResponseBatch> SplitResponseBatch(v1::ResponseBatch batch,
                                                  size_t max_bytes) {
  std::vector<v1::ResponseBatch> parts;
  if (batch.ByteSizeLong() <= max_bytes || batch.responses_size() <= 1) {
    parts.push_back(std::move(batch));
    return parts;
  }
  // Field tag plus length prefix of one embedded Response, at most.
  constexpr size_t kFraming = 1 + 10;
  v1::ResponseBatch part;
  if (batch.has_info()) part.mutable_info()->Swap(batch.mutable_info());
  size_t bytes = part.ByteSizeLong();
  for (v1::Response& response : *batch.mutable_responses()) {
    const size_t size = response.ByteSizeLong() + kFraming;
    if (part.responses_size() > 0 && bytes + size > max_bytes) {
      parts.push_back(std::move(part));
      part = v1::ResponseBatch();
      bytes = 0;
    }
    part.add_responses()->Swap(&response);
    bytes += size;
  }
  parts.push_back(std::move(part));
  return parts;
}

}  // namespace atomix::broker
