// atomix::CurrentVersion: reads the kCurrentPayloadUrl payload of a status.
#include "atomix/status.h"

#include <string>

#include "absl/strings/numbers.h"

namespace atomix {

std::optional<int64_t> CurrentVersion(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  auto payload = status.GetPayload(kCurrentPayloadUrl);  // absl::optional<absl::Cord>
  if (!payload) return std::nullopt;
  int64_t v = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &v)) return std::nullopt;
  return v;
}

}  // namespace atomix
