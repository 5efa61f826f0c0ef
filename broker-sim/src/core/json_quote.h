// JSON string literals (RFC 8259) for the broker's JSON logs and its HTTP
// answers. Bytes that are not valid UTF-8 become U+FFFD, so the result
// always parses, whatever bytes a client sent.
//
//   JsonQuote("a\"b")   // "\"a\\\"b\""
//
// Thread-safety: pure functions.
#ifndef ATOMIX_BROKER_CORE_JSON_QUOTE_H_
#define ATOMIX_BROKER_CORE_JSON_QUOTE_H_

#include <string>
#include <string_view>

namespace atomix::broker {

// Appends `text` as a JSON string literal, quotes included.
void AppendJsonQuoted(std::string_view text, std::string& out);
// `text` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view text);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CORE_JSON_QUOTE_H_
