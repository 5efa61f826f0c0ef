// The broker's log: spdlog to stderr, as text or as JSON lines
// (--log-format).
//
//   text  2026-12-02T17:07:25.123 info atomix-broker 1.2.0 listening on ...
//   json  {"ts":"2026-12-02T17:07:25.123Z","level":"info",
//          "logger":"atomix-broker","msg":"atomix-broker 1.2.0 listening on ..."}
//
// A JSON line is one object with exactly these four string fields: ts
// (RFC 3339, UTC, milliseconds), level (trace, debug, info, warning, error,
// critical), logger and msg. Strings are escaped per RFC 8259; bytes that
// are not valid UTF-8 become U+FFFD, so every line parses.
//
// Thread-safety: SetUpLogging is called once from main before other threads
// log; the formatter is used by spdlog under its sink's lock.
#ifndef ATOMIX_BROKER_CONFIG_LOGGING_H_
#define ATOMIX_BROKER_CONFIG_LOGGING_H_

#include <memory>
#include <string>
#include <string_view>

#include "spdlog/formatter.h"

namespace atomix::broker {

// Formats each message as one JSON object and a newline.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Makes the default logger "atomix-broker" write to stderr in `format`
// ("text" or "json") at `level` (spdlog level name).
void SetUpLogging(const std::string& format, const std::string& level);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CONFIG_LOGGING_H_
