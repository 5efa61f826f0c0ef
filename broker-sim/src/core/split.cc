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

std::vector<v1::WatchResponse> SplitSnapshot(v1::WatchSnapshot snapshot,
                                             size_t max_bytes) {
  std::vector<v1::WatchResponse> parts;
  google::protobuf::RepeatedPtrField<v1::MapEntry> entries;
  entries.Swap(snapshot.mutable_entries());
  // Field tag plus length prefix of one embedded entry, at most.
  constexpr size_t kFraming = 1 + 10;
  v1::WatchResponse part;
  *part.mutable_snapshot() = snapshot;  // no entries: small
  size_t bytes = part.ByteSizeLong();
  for (v1::MapEntry& entry : entries) {
    const size_t size = entry.ByteSizeLong() + kFraming;
    if (part.snapshot().entries_size() > 0 && bytes + size > max_bytes) {
      part.mutable_snapshot()->set_more(true);
      parts.push_back(std::move(part));
      part = v1::WatchResponse();
      v1::WatchSnapshot* next = part.mutable_snapshot();
      next->set_reason(snapshot.reason());
      next->set_revision(snapshot.revision());
      bytes = part.ByteSizeLong();
    }
    part.mutable_snapshot()->add_entries()->Swap(&entry);
    bytes += size;
  }
  part.mutable_snapshot()->set_more(false);
  parts.push_back(std::move(part));
  return parts;
}

}  // namespace atomix::broker
