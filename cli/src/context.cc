#include "cli/src/context.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>
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
  tls.reset();
  if (tls_flag || !cacert_flag.empty() || !cert_flag.empty() || !key_flag.empty()) {
    if (cert_flag.empty() != key_flag.empty()) {
      throw CLI::ValidationError(cert_flag.empty() ? "--key" : "--cert",
                                 cert_flag.empty() ? "--key needs --cert" : "--cert needs --key");
    }
    tls.emplace();
    tls->root_ca_file = cacert_flag;
    tls->cert_file = cert_flag;
    tls->key_file = key_flag;
  }
  token = token_flag;
  if (!token.empty() && !tls) {
    throw CLI::ValidationError("--token",
                               "a token is sent over TLS only: add --cacert FILE (or --tls)");
  }
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
  o.tls = tls;
  o.token = token;
  auto client = Client::Connect(o);
  if (!client.ok() && (absl::IsUnavailable(client.status()) ||
                       absl::IsDeadlineExceeded(client.status()))) {
    // Keep the client's reason when it is more than "not connected yet"
    // (a TLS failure, say).
    const std::string_view why(client.status().message().data(),
                               client.status().message().size());
    const bool telling = tls.has_value() && why.find("not connected yet") == std::string_view::npos &&
                         why.find("Connection refused") == std::string_view::npos;
    return absl::UnavailableError(absl::StrCat(
        "no broker answered at ", absl::StrJoin(endpoints, ","), " within ", timeout_flag,
        telling ? absl::StrCat(" (", client.status().message(), ")") : std::string()));
  }
  return client;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Context::Credentials() const {
  if (!tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  const std::pair<const std::string*, std::string*> files[] = {
      {&tls->root_ca_file, &ssl.pem_root_certs},
      {&tls->cert_file, &ssl.pem_cert_chain},
      {&tls->key_file, &ssl.pem_private_key}};
  for (const auto& [path, pem] : files) {
    if (path->empty()) continue;
    std::ifstream in(*path, std::ios::binary);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", *path));
    std::ostringstream text;
    text << in.rdbuf();
    *pem = text.str();
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(ssl);
  if (token.empty()) return credentials;
  return grpc::CompositeChannelCredentials(credentials, grpc::AccessTokenCredentials(token));
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
