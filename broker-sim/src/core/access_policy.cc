// Access policies: roles, name patterns and checks.
#include "broker-sim/src/core/access_policy.h"

#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace atomix::broker {
namespace {

constexpr size_t kMaxPatternBytes = 256;  // names are at most this long

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

uint32_t Bit(AccessRight right) { return uint32_t{1} << static_cast<int>(right); }

std::string Quoted(std::string_view text) {
  return absl::StrCat("\"", absl::Utf8SafeCHexEscape(Sv(text)),
                      "\"");
}

}  // namespace

std::string_view RightName(AccessRight right) {
  switch (right) {
    case AccessRight::kRead:
      return "read";
    case AccessRight::kWrite:
      return "write";
    case AccessRight::kLock:
      return "lock";
    case AccessRight::kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<AccessRight> ParseRight(std::string_view name) {
  for (AccessRight right : {AccessRight::kRead, AccessRight::kWrite, AccessRight::kLock,
                            AccessRight::kAdmin}) {
    if (RightName(right) == name) return right;
  }
  return std::nullopt;
}

std::string DescribePrincipal(std::string_view principal) {
  return principal.empty() ? std::string("principal \"\" (anonymous)")
                           : absl::StrCat("principal ", Quoted(principal));
}

absl::StatusOr<NamePattern> NamePattern::Parse(std::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError(
        "empty pattern (use \"*\" for every name, \"prefix/\" for a prefix)");
  }
  if (text.size() > kMaxPatternBytes) {
    return absl::InvalidArgumentError(absl::StrCat("pattern is ", text.size(),
                                                   " bytes; names are at most ",
                                                   kMaxPatternBytes));
  }
  if (text == "*") return NamePattern(Kind::kAll, std::string(text));
  if (text.find('*') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pattern ", Quoted(text),
        ": '*' only stands alone (every name); a prefix is written without it and "
        "ends with '/', as \"jobs/\""));
  }
  if (text.back() == '/') return NamePattern(Kind::kPrefix, std::string(text));
  return NamePattern(Kind::kExact, std::string(text));
}

bool NamePattern::Matches(std::string_view name) const {
  switch (kind_) {
    case Kind::kAll:
      return true;
    case Kind::kPrefix:
      return name.substr(0, text_.size()) == text_;
    case Kind::kExact:
      return name == text_;
  }
  return false;
}

void AccessPolicy::AddRole(const std::string& role) {
  std::unique_ptr<Role>& slot = roles_[role];
  if (slot == nullptr) slot = std::make_unique<Role>();
}

void AccessPolicy::Grant(const std::string& role, AccessRight right, NamePattern pattern) {
  AddRole(role);
  Role& r = *roles_[role];
  for (Entry& g : r.grants) {
    if (g.pattern.text() == pattern.text()) {
      g.rights |= Bit(right);
      return;
    }
  }
  r.grants.push_back(Entry{Bit(right), std::move(pattern)});
}

bool AccessPolicy::HasRole(std::string_view role) const { return roles_.contains(Sv(role)); }

absl::Status AccessPolicy::GiveRole(const std::string& principal, std::string_view role) {
  if (principal.empty()) return GiveAnonymousRole(role);
  auto found = roles_.find(Sv(role));
  if (found == roles_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown role ", Quoted(role)));
  }
  principals_[principal].push_back(found->second.get());
  return absl::OkStatus();
}

absl::Status AccessPolicy::GiveAnonymousRole(std::string_view role) {
  auto found = roles_.find(Sv(role));
  if (found == roles_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown role ", Quoted(role)));
  }
  anonymous_.push_back(found->second.get());
  return absl::OkStatus();
}

absl::Status AccessPolicy::GiveAuthenticatedRole(std::string_view role) {
  auto found = roles_.find(Sv(role));
  if (found == roles_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown role ", Quoted(role)));
  }
  authenticated_.push_back(found->second.get());
  return absl::OkStatus();
}

bool AccessPolicy::RolesAllow(const RoleList& roles, AccessRight right,
                              std::string_view name) const {
  const uint32_t wanted = Bit(right) | Bit(AccessRight::kAdmin);
  for (const Role* role : roles) {
    for (const Entry& g : role->grants) {
      if ((g.rights & wanted) != 0 && g.pattern.Matches(name)) return true;
    }
  }
  return false;
}

bool AccessPolicy::Allows(std::string_view principal, AccessRight right,
                          std::string_view name) const {
  if (principal.empty()) return RolesAllow(anonymous_, right, name);
  if (RolesAllow(authenticated_, right, name)) return true;
  auto found = principals_.find(Sv(principal));
  return found != principals_.end() && RolesAllow(found->second, right, name);
}

absl::Status AccessPolicy::Check(std::string_view principal, AccessRight right,
                                 std::string_view name, std::string_view what) const {
  if (Allows(principal, right, name)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat(DescribePrincipal(principal), " lacks the ", Sv(RightName(right)),
                   " right on ", Quoted(name), what.empty() ? "" : " (", Sv(what),
                   what.empty() ? "" : ")"));
}

}  // namespace atomix::broker
