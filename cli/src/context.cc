#include "cli/src/context.h"

#include <cctype>
#include <cstdlib>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/src/exit_codes.h"

namespace atomix::cli {
namespace {

// Whether `endpoint` is host:port with a port in 1..65535.
bool ValidEndpoint(const std::string& endpoint) {
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  int port = 0;
  if (!absl::SimpleAtoi(endpoint.substr(colon + 1), &port)) return false;
  return port >= 1 && port <= 65535;
}

}  // namespace

void Context::Resolve() {
  endpoints.clear();
  std::string list = endpoints_flag.empty() ? "127.0.0.1:5679" : endpoints_flag;
  for (absl::string_view part : absl::StrSplit(list, ',')) {
    std::string endpoint(part);
    if (!ValidEndpoint(endpoint)) {
      throw CLI::ValidationError(
          "--endpoints", absl::StrCat("'", endpoint, "' is not host:port (port 1-65535)"));
    }
    endpoints.push_back(endpoint);
  }
  auto t = ParseDuration(timeout_flag);
  if (!t.ok()) throw CLI::ValidationError("--timeout", std::string(t.status().message()));
  timeout = *t;
  if (output_flag == "table") {
    format = Format::kTable;
  } else if (output_flag == "json") {
    format = Format::kJson;
  } else {
    throw CLI::ValidationError("--output",
                               absl::StrCat("'", output_flag, "' is not table or json"));
  }
}

absl::StatusOr<Client> Context::Connect(std::chrono::milliseconds session_ttl) const {
  ClientOptions o;
  o.endpoints = endpoints;
  o.connect_timeout = timeout;
  o.default_call_timeout = timeout;
  o.session_ttl = session_ttl;
  o.callback_threads = 1;
  auto client = Client::Connect(o);
  if (!client.ok() && (absl::IsUnavailable(client.status()) ||
                       absl::IsDeadlineExceeded(client.status()))) {
    return absl::UnavailableError(absl::StrCat("no broker answered at ",
                                               absl::StrJoin(endpoints, ","), " within ",
                                               timeout_flag));
  }
  return client;
}

int Context::Fail(const std::string& what, const absl::Status& status) const {
  std::string code = absl::StatusCodeToString(status.code());
  for (char& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return Report(ExitCodeFor(status), absl::StrCat(what, ": ", status.message(), " (", code, ")"));
}

int Report(int code, const std::string& message) {
  std::cerr << "atomix: " << message << std::endl;
  return code;
}

absl::StatusOr<std::chrono::milliseconds> ParseDuration(const std::string& text,
                                                        bool allow_zero) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string number = text.substr(0, digits);
  const std::string unit = text.substr(digits);
  int64_t n = 0;
  int64_t scale = 0;
  if (unit == "ms") scale = 1;
  if (unit == "s" || unit.empty()) scale = 1000;
  if (unit == "m") scale = 60 * 1000;
  if (unit == "h") scale = 3600 * 1000;
  if (number.empty() || scale == 0 || !absl::SimpleAtoi(number, &n) ||
      n > int64_t{1} << 40 || (n == 0 && !allow_zero)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "' is not a ", allow_zero ? "" : "positive ",
        "duration (a whole number with ms, s, m or h, e.g. 500ms, 5s)"));
  }
  // At most about 31 years: longer would overflow the nanoseconds of a
  // gRPC deadline.
  constexpr int64_t kMaxMillis = int64_t{1000} * 1000 * 1000 * 1000;
  if (n > kMaxMillis / scale) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is longer than the longest duration, ", kMaxMillis, "ms"));
  }
  return std::chrono::milliseconds(n * scale);
}

CLI::Validator DurationValidator(bool allow_zero) {
  return CLI::Validator(
      [allow_zero](std::string& text) -> std::string {
        auto d = ParseDuration(text, allow_zero);
        return d.ok() ? std::string() : std::string(d.status().message());
      },
      "DURATION");
}

}  // namespace atomix::cli
