// Query parameters and answers of the console's JSON API (console.h).
//
//   ConsoleParams params(request);
//   uint64_t after = 0;
//   if (!params.Only({"after", "limit"}) || !params.Uint("after", UINT64_MAX, after)) {
//     return ReplyError(response, 400, params.error(), params.parameter());
//   }
//
// Thread-safety: ConsoleParams is used by one handler at a time; the free
// functions are stateless.
#ifndef ATOMIX_BROKER_HTTP_CONSOLE_PARAMS_H_
#define ATOMIX_BROKER_HTTP_CONSOLE_PARAMS_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "broker-sim/src/core/json_quote.h"
#include "atomix/v1/types.pb.h"
#include "google/protobuf/message.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace atomix::broker {

// Reads a request's query parameters. Each reader leaves `out` alone when
// the parameter is absent or empty, and returns false (see parameter() and
// error()) when it is given twice or does not parse.
class ConsoleParams {
 public:
  explicit ConsoleParams(const httplib::Request& request) : request_(request) {}

  // False if a parameter is not one of `allowed`.
  bool Only(std::initializer_list<absl::string_view> allowed);
  // A decimal integer in [0, max].
  bool Uint(const std::string& key, uint64_t max, uint64_t& out);
  // A decimal integer in [min, max].
  bool Int(const std::string& key, int64_t min, int64_t max, int64_t& out);
  // A primitive type by name, in any case: "map", "LOCK", "read_write_lock".
  bool Type(const std::string& key, v1::PrimitiveType& out);
  // Any text (at most 4096 bytes).
  bool Text(const std::string& key, std::string& out);
  // Whether the parameter is given (even empty).
  bool Has(const std::string& key) const;

  // After a false: the parameter at fault, and what is wrong with it (a
  // sentence that starts with the parameter's name).
  const std::string& parameter() const { return parameter_; }
  const std::string& error() const { return error_; }

 private:
  // The single value of `key` (false after setting the error if it is given
  // more than once); empty if absent.
  bool One(const std::string& key, std::string& value);
  bool Fail(const std::string& key, std::string message);

  const httplib::Request& request_;
  std::string parameter_;
  std::string error_;
};

// The HTTP status for a failed call: 400 INVALID_ARGUMENT, 404 NOT_FOUND,
// 409 FAILED_PRECONDITION, 503 UNAVAILABLE and RESOURCE_EXHAUSTED, else 500.
int HttpStatusFor(absl::StatusCode code);

// Answers `status` with {"error": message} (and "parameter" when given).
void ReplyError(httplib::Response& response, int status, absl::string_view message,
                absl::string_view parameter = "");
void ReplyError(httplib::Response& response, const absl::Status& status);

// Answers 200 with `message` in proto3's JSON mapping (lowerCamelCase
// fields, every field printed, int64 as strings, bytes as base64).
void ReplyJson(httplib::Response& response, const google::protobuf::Message& message);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_HTTP_CONSOLE_PARAMS_H_
