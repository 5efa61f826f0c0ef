// Error and quoting helpers shared by the state machines and the validator.
#include "broker-sim/src/state/errors.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "broker-sim/src/state/registry.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

void SetError(v1::Response& response, absl::StatusCode code,
              std::string message) {
  v1::Error* error = response.mutable_error();
  error->set_code(static_cast<int32_t>(code));
  error->set_message(std::move(message));
}

void SetError(v1::Response& response, absl::StatusCode code,
              std::string message, int64_t current) {
  SetError(response, code, std::move(message));
  response.mutable_error()->set_current(current);
}

std::string ATypeName(v1::PrimitiveType type) {
  if (const PrimitiveSpec* spec = FindPrimitive(type)) {
    return std::string(spec->a_name);
  }
  return absl::StrCat("a ", TypeName(type));
}

std::string WrongTypeMessage(absl::string_view name, v1::PrimitiveType bound,
                             v1::PrimitiveType asked) {
  return absl::StrCat(QuoteName(name), " is ", ATypeName(bound), ", not ",
                      ATypeName(asked));
}

void SetWrongType(v1::Response& response, absl::string_view name,
                  v1::PrimitiveType bound, v1::PrimitiveType asked) {
  SetError(response, absl::StatusCode::kFailedPrecondition,
           WrongTypeMessage(name, bound, asked));
}

void SetLostSession(v1::Response& response, uint64_t id) {
  SetError(response, absl::StatusCode::kAborted,
           absl::StrCat("session ", id, " is closed or expired"));
}

std::string QuoteName(absl::string_view name) {
  return absl::StrCat("\"", absl::Utf8SafeCEscape(name), "\"");
}

std::string QuoteBytes(absl::string_view bytes) {
  constexpr size_t kShown = 64;
  if (bytes.size() <= kShown) {
    return absl::StrCat("\"", absl::CHexEscape(bytes), "\"");
  }
  return absl::StrCat("\"", absl::CHexEscape(bytes.substr(0, kShown)),
                      "\"... (", bytes.size(), " bytes)");
}

}  // namespace atomix::broker
