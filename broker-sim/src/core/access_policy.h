// AccessPolicy: which principal may do what on which primitive names.
//
//   AccessPolicy policy;
//   policy.Grant("jobs", AccessRight::kWrite, *NamePattern::Parse("jobs/"));
//   policy.Grant("jobs", AccessRight::kRead, *NamePattern::Parse("*"));
//   policy.GiveRole("alice", "jobs");
//   policy.Check("alice", AccessRight::kWrite, "jobs/a", "map put");   // OK
//   policy.Check("alice", AccessRight::kWrite, "config/db", "map put");
//   // PERMISSION_DENIED: principal "alice" lacks the write right on
//   // "config/db" (map put)
//
// Roles grant rights over name patterns; principals are given roles. A
// pattern is "*" (every name), a prefix ending in '/' ("jobs/" covers
// "jobs/a" and "jobs/x/y", not "jobs"), or one exact name. The rights are
// read, write, lock and admin (AccessRight, state/registry.h says which
// request needs which); admin implies the other three on the same names.
// The anonymous principal "" has the roles given to it with
// GiveAnonymousRole, and no others: with none, it may do nothing. Every
// other principal has its own roles plus those of GiveAuthenticatedRole.
// Nothing is allowed that no role grants.
//
// Rights cover primitive names, not keys inside a primitive: a map's keys
// share its name's rights.
//
// Thread-safety: build a policy from one thread; once built and shared
// (as std::shared_ptr<const AccessPolicy>, see access_control.h) its const
// methods are safe from any number of threads.
#ifndef ATOMIX_BROKER_CORE_ACCESS_POLICY_H_
#define ATOMIX_BROKER_CORE_ACCESS_POLICY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker-sim/src/state/registry.h"

namespace atomix::broker {

// "read", "write", "lock", "admin".
std::string_view RightName(AccessRight right);
// The right called `name`, or nullopt.
std::optional<AccessRight> ParseRight(std::string_view name);

// The principal as messages name it: `principal "alice"`, or
// `principal "" (anonymous)`.
std::string DescribePrincipal(std::string_view principal);

class NamePattern {
 public:
  // "*", a prefix ending in '/', or an exact name (1..256 bytes, as names
  // are). INVALID_ARGUMENT naming the problem: empty, too long, or a '*'
  // that is not the whole pattern ("jobs/*": write the prefix "jobs/").
  static absl::StatusOr<NamePattern> Parse(std::string_view text);

  bool Matches(std::string_view name) const;
  // The pattern as written.
  const std::string& text() const { return text_; }

 private:
  enum class Kind { kAll, kPrefix, kExact };
  NamePattern(Kind kind, std::string text) : kind_(kind), text_(std::move(text)) {}

  Kind kind_;
  std::string text_;
};

class AccessPolicy {
 public:
  // Role `role` (created on first use) grants `right` over `pattern`.
  void Grant(const std::string& role, AccessRight right, NamePattern pattern);
  // Declares role `role` with no grants, if it does not exist yet.
  void AddRole(const std::string& role);
  bool HasRole(std::string_view role) const;

  // Gives `principal` the role ("": as GiveAnonymousRole); NOT_FOUND if no
  // such role.
  absl::Status GiveRole(const std::string& principal, std::string_view role);
  // Gives the anonymous principal "" the role; NOT_FOUND if no such role.
  absl::Status GiveAnonymousRole(std::string_view role);
  // Gives every principal but "" the role; NOT_FOUND if no such role.
  absl::Status GiveAuthenticatedRole(std::string_view role);

  // Whether `principal` holds `right` (or admin) on `name`.
  bool Allows(std::string_view principal, AccessRight right,
              std::string_view name) const;
  // OK, or PERMISSION_DENIED naming the principal, the right and the name,
  // and `what` asked for it if not empty: principal "alice" lacks the write
  // right on "config/db" (map put).
  absl::Status Check(std::string_view principal, AccessRight right,
                     std::string_view name, std::string_view what = "") const;

  // How many roles and principals it names (for logs).
  size_t roles() const { return roles_.size(); }
  size_t principals() const { return principals_.size(); }

 private:
  struct Entry {
    uint32_t rights = 0;  // a bit per AccessRight
    NamePattern pattern;
  };
  struct Role {
    std::vector<Entry> grants;
  };
  using RoleList = std::vector<const Role*>;

  bool RolesAllow(const RoleList& roles, AccessRight right,
                  std::string_view name) const;

  // Node-stable: RoleLists point into it.
  absl::flat_hash_map<std::string, std::unique_ptr<Role>> roles_;
  absl::flat_hash_map<std::string, RoleList> principals_;
  RoleList anonymous_;
  RoleList authenticated_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CORE_ACCESS_POLICY_H_
