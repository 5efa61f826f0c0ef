// The bearer-token file of --auth-tokens: which principal each token
// stands for, holding only the SHA-256 of each token.
//
//   # principal  sha256(token) in hex; '#' starts a comment
//   alice        9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//   deploy-bot   60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
//
// One entry a line: a principal name (letters, digits and . _ - @ :), white
// space, and 64 hex digits. A principal may have several tokens (for
// rotation); a hash may appear once. Make a hash with
// `printf %s "$TOKEN" | sha256sum`.
//
// Thread-safety: pure functions; TokenTable is immutable once built.
#ifndef ATOMIX_BROKER_SERVER_TOKEN_FILE_H_
#define ATOMIX_BROKER_SERVER_TOKEN_FILE_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace atomix::broker {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);

struct TokenEntry {
  std::string principal;
  Sha256Digest hash{};
};

class TokenTable {
 public:
  TokenTable() = default;
  explicit TokenTable(std::vector<TokenEntry> entries) : entries_(std::move(entries)) {}

  // The principal whose token is `token`, or null. Hashes `token` once and
  // compares the digest with every entry in constant time (no early exit),
  // so timing tells nothing about which bytes matched.
  const std::string* Find(std::string_view token) const;

  size_t size() const { return entries_.size(); }

 private:
  std::vector<TokenEntry> entries_;
};

// Parses the file's text; INVALID_ARGUMENT naming `path`, the line and the
// problem.
absl::StatusOr<TokenTable> ParseTokenFile(std::string_view text, const std::string& path);

// Reads and parses `path`.
absl::StatusOr<TokenTable> ReadTokenFile(const std::string& path);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_TOKEN_FILE_H_
