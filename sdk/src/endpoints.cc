#include "sdk/src/endpoints.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace atomix::internal {

std::vector<std::string> SplitEndpoints(std::string_view list) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(absl::string_view(list.data(), list.size()), ',')) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(part);
    if (!trimmed.empty()) out.emplace_back(trimmed);
  }
  return out;
}

std::vector<std::string> ResolveEndpoints(std::vector<std::string> configured) {
  if (!configured.empty()) return configured;
  if (const char* env = std::getenv(kBrokerEnv); env != nullptr) {
    std::vector<std::string> from_env = SplitEndpoints(env);
    if (!from_env.empty()) return from_env;
  }
  return {kDefaultEndpoint};
}

absl::Status UnavailableError(const std::vector<std::string>& endpoints, std::string_view why) {
  return absl::UnavailableError(
      absl::StrCat(endpoints.size() == 1 ? "broker " : "brokers ", absl::StrJoin(endpoints, ", "),
                   " unavailable: ", absl::string_view(why.data(), why.size())));
}

}  // namespace atomix::internal
