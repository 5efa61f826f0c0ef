// The broker's log formats.
#include "broker-sim/src/config/logging.h"

#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

// The length of the valid UTF-8 sequence at the start of `s`, 0 if there
// is none (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
size_t Utf8Length(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return n;
}

void AppendQuoted(std::string_view text, spdlog::memory_buf_t& out) {
  const auto put = [&](std::string_view piece) {
    out.append(piece.data(), piece.data() + piece.size());
  };
  put("\"");
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t n = Utf8Length(text.substr(i));
      if (n == 0) {
        put("\\ufffd");
        ++i;
      } else {
        put(text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': put("\\\""); break;
      case '\\': put("\\\\"); break;
      case '\n': put("\\n"); break;
      case '\r': put("\\r"); break;
      case '\t': put("\\t"); break;
      case '\b': put("\\b"); break;
      case '\f': put("\\f"); break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          put(escaped);
        } else {
          const char one = static_cast<char>(c);
          put(std::string_view(&one, 1));
        }
    }
    ++i;
  }
  put("\"");
}

}  // namespace

std::string JsonQuote(std::string_view text) {
  spdlog::memory_buf_t out;
  AppendQuoted(text, out);
  return std::string(out.data(), out.size());
}

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
