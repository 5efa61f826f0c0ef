// The broker's log formats.
#include "broker-sim/src/config/logging.h"

#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "broker-sim/src/core/json_quote.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

void AppendQuoted(std::string_view text, spdlog::memory_buf_t& dest) {
  std::string quoted;
  AppendJsonQuoted(text, quoted);
  dest.append(quoted.data(), quoted.data() + quoted.size());
}

}  // namespace

void JsonLogFormatter::format(const spdlog::details::log_msg& msg,
                              spdlog::memory_buf_t& dest) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto since_epoch = msg.time.time_since_epoch();
  const time_t seconds = std::chrono::system_clock::to_time_t(msg.time);
  const int64_t millis = duration_cast<milliseconds>(since_epoch).count() % 1000;
  struct tm utc;
  gmtime_r(&seconds, &utc);
  char ts[96];
  std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis < 0 ? millis + 1000 : millis));
  const auto put = [&](std::string_view piece) {
    dest.append(piece.data(), piece.data() + piece.size());
  };
  put("{\"ts\":\"");
  put(ts);
  put("\",\"level\":");
  const auto level = spdlog::level::to_string_view(msg.level);
  AppendQuoted(std::string_view(level.data(), level.size()), dest);
  put(",\"logger\":");
  AppendQuoted(std::string_view(msg.logger_name.data(), msg.logger_name.size()), dest);
  put(",\"msg\":");
  AppendQuoted(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  put("}\n");
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

void SetUpLogging(const std::string& format, const std::string& level) {
  std::shared_ptr<spdlog::logger> logger;
  if (format == "json") {
    logger = spdlog::stderr_logger_mt("atomix-broker");
    logger->set_formatter(std::make_unique<JsonLogFormatter>());
  } else {
    logger = spdlog::stderr_color_mt("atomix-broker");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace atomix::broker
