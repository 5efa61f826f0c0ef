// Internal: where a client connects, and how UNAVAILABLE errors name it.
//
// Thread-safety: pure functions; ResolveEndpoints reads the environment.
#ifndef ATOMIX_SDK_SRC_ENDPOINTS_H_
#define ATOMIX_SDK_SRC_ENDPOINTS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace atomix::internal {

inline constexpr char kDefaultEndpoint[] = "127.0.0.1:5679";
inline constexpr char kBrokerEnv[] = "ATOMIX_BROKER";

// Splits a comma-separated host:port list, trimming blanks and dropping
// empty items.
std::vector<std::string> SplitEndpoints(std::string_view list);

// `configured` if not empty, else ATOMIX_BROKER, else kDefaultEndpoint.
std::vector<std::string> ResolveEndpoints(std::vector<std::string> configured);

// UNAVAILABLE "broker <e> unavailable: <why>", or, for several endpoints,
// "brokers <e1>, <e2> unavailable: <why>".
absl::Status UnavailableError(const std::vector<std::string>& endpoints, std::string_view why);

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_ENDPOINTS_H_
