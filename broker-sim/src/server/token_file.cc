// Bearer-token files: parsing and constant-time lookup.
#include "broker-sim/src/server/token_file.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace atomix::broker {
namespace {

bool ValidPrincipal(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-' && c != '@' && c != ':') {
      return false;
    }
  }
  return true;
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest out{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr);
  return out;
}

const std::string* TokenTable::Find(std::string_view token) const {
  const Sha256Digest digest = Sha256(token);
  const std::string* found = nullptr;
  for (const TokenEntry& e : entries_) {
    // Every entry is compared; hashes are unique, so at most one matches.
    const bool match = CRYPTO_memcmp(e.hash.data(), digest.data(), digest.size()) == 0;
    if (match) found = &e.principal;
  }
  return found;
}

absl::StatusOr<TokenTable> ParseTokenFile(std::string_view text, const std::string& path) {
  std::vector<TokenEntry> entries;
  absl::flat_hash_set<std::string> hashes;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_no;
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const auto where = [&] { return absl::StrCat("--auth-tokens ", path, " line ", line_no, ": "); };
    if (fields.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "expected \"<principal> <sha256 hex>\", found ", fields.size(),
                       " fields"));
    }
    const std::string principal(fields[0]);
    if (!ValidPrincipal(principal)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "principal \"", principal,
          "\" must be 1 to 256 letters, digits or . _ - @ :"));
    }
    const std::string hex = absl::AsciiStrToLower(fields[1]);
    if (hex.size() != 64 ||
        hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "the hash of \"", principal,
          "\" is not 64 hex digits (a SHA-256; make one with printf %s \"$TOKEN\" | sha256sum)"));
    }
    if (!hashes.insert(hex).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "the hash of \"", principal, "\" appears twice"));
    }
    TokenEntry entry;
    entry.principal = principal;
    const std::string bytes = absl::HexStringToBytes(hex);
    std::memcpy(entry.hash.data(), bytes.data(), entry.hash.size());
    entries.push_back(std::move(entry));
  }
  return TokenTable(std::move(entries));
}

absl::StatusOr<TokenTable> ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth-tokens ", path, ": cannot read: ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseTokenFile(text.str(), path);
}

}  // namespace atomix::broker
