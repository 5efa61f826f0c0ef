// Query parameters and answers of the console's JSON API.
#include "broker-sim/src/http/console_params.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "httplib.h"

namespace atomix::broker {
namespace {

constexpr size_t kMaxTextBytes = 4096;

}  // namespace

bool ConsoleParams::Fail(const std::string& key, std::string message) {
  parameter_ = key;
  error_ = std::move(message);
  return false;
}

bool ConsoleParams::Has(const std::string& key) const {
  return request_.params.count(key) > 0;
}

bool ConsoleParams::One(const std::string& key, std::string& value) {
  const size_t count = request_.params.count(key);
  if (count > 1) return Fail(key, absl::StrCat(key, " is given ", count, " times"));
  value = count == 0 ? "" : request_.params.find(key)->second;
  return true;
}

bool ConsoleParams::Only(std::initializer_list<absl::string_view> allowed) {
  for (const auto& [key, value] : request_.params) {
    bool known = false;
    for (absl::string_view name : allowed) known = known || key == name;
    if (!known && allowed.size() == 0) {
      return Fail(key, absl::StrCat("unknown parameter ", JsonQuote(key),
                                    "; this call takes none"));
    }
    if (!known) {
      return Fail(key, absl::StrCat("unknown parameter ", JsonQuote(key), "; expected ",
                                    absl::StrJoin(allowed, ", ")));
    }
  }
  return true;
}

bool ConsoleParams::Uint(const std::string& key, uint64_t max, uint64_t& out) {
  std::string text;
  if (!One(key, text)) return false;
  if (text.empty()) return true;
  uint64_t value = 0;
  if (text.size() > 20 || !absl::ascii_isdigit(static_cast<unsigned char>(text[0])) ||
      !absl::SimpleAtoi(text, &value)) {
    return Fail(key, absl::StrCat(key, " is ", JsonQuote(text),
                                  "; expected a whole number from 0 to ", max));
  }
  if (value > max) {
    return Fail(key, absl::StrCat(key, " is ", value, "; the largest is ", max));
  }
  out = value;
  return true;
}

bool ConsoleParams::Int(const std::string& key, int64_t min, int64_t max, int64_t& out) {
  std::string text;
  if (!One(key, text)) return false;
  if (text.empty()) return true;
  int64_t value = 0;
  if (text.size() > 20 || !absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return Fail(key, absl::StrCat(key, " is ", JsonQuote(text),
                                  "; expected a whole number from ", min, " to ", max));
  }
  out = value;
  return true;
}

bool ConsoleParams::Type(const std::string& key, v1::PrimitiveType& out) {
  std::string text;
  if (!One(key, text)) return false;
  if (text.empty()) return true;
  v1::PrimitiveType type = v1::PRIMITIVE_TYPE_UNSPECIFIED;
  if (text.size() > 64 || !v1::PrimitiveType_Parse(absl::AsciiStrToUpper(text), &type) ||
      type == v1::PRIMITIVE_TYPE_UNSPECIFIED) {
    std::vector<std::string> names;
    for (int i = v1::PrimitiveType_MIN + 1; i <= v1::PrimitiveType_MAX; ++i) {
      if (v1::PrimitiveType_IsValid(i)) {
        names.push_back(absl::AsciiStrToLower(
            v1::PrimitiveType_Name(static_cast<v1::PrimitiveType>(i))));
      }
    }
    return Fail(key, absl::StrCat(key, " is ", JsonQuote(text.substr(0, 64)),
                                  "; expected one of ", absl::StrJoin(names, ", ")));
  }
  out = type;
  return true;
}

bool ConsoleParams::Text(const std::string& key, std::string& out) {
  std::string text;
  if (!One(key, text)) return false;
  if (text.size() > kMaxTextBytes) {
    return Fail(key, absl::StrCat(key, " is ", text.size(), " bytes; the limit is ",
                                  kMaxTextBytes));
  }
  if (!text.empty()) out = std::move(text);
  return true;
}

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kFailedPrecondition: return 409;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted: return 503;
    default: return 500;
  }
}

void ReplyError(httplib::Response& response, int status, absl::string_view message,
                absl::string_view parameter) {
  std::string body = absl::StrCat(
      "{\"error\":", JsonQuote(std::string_view(message.data(), message.size())));
  if (!parameter.empty()) {
    absl::StrAppend(&body, ",\"parameter\":",
                    JsonQuote(std::string_view(parameter.data(), parameter.size())));
  }
  body += "}\n";
  response.status = status;
  response.set_header("Cache-Control", "no-store");
  response.set_content(body, "application/json");
}

void ReplyError(httplib::Response& response, const absl::Status& status) {
  ReplyError(response, HttpStatusFor(status.code()), status.message());
}

void ReplyJson(httplib::Response& response, const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string body;
  // protobuf 3.21 has a Status of its own.
  const auto printed = google::protobuf::util::MessageToJsonString(message, &body, options);
  if (!printed.ok()) {
    ReplyError(response, 500, absl::StrCat("cannot print the answer: ", printed.ToString()));
    return;
  }
  body += '\n';
  response.status = 200;
  response.set_header("Cache-Control", "no-store");
  response.set_content(body, "application/json");
}

}  // namespace atomix::broker
