// The access policy file of --acl-policy: TOML, roles and who has them.
//
//   # roles: each grants rights (read, write, lock, admin) over name
//   # patterns: "*" (every name), "prefix/" (names starting with it), or an
//   # exact name.
//   anonymous = ["public"]          # roles of calls with no credentials
//   authenticated = ["reader"]      # roles every other principal also has
//
//   [roles.public]
//   read = ["public/"]
//
//   [roles.reader]
//   read = ["*"]
//
//   [roles.jobs]
//   write = ["jobs/"]
//   lock = ["jobs/", "leader"]
//
//   [roles.operator]
//   admin = ["*"]                   # admin implies read, write and lock
//
//   [principals]
//   alice = ["jobs"]
//   "spiffe://example.org/ops" = ["operator"]
//
// docs/security.md ("Access control") says which request needs which right;
// docs/examples/acl.toml is a full example.
//
// Thread-safety: stateless functions; ReloadAccessPolicy is as safe as
// AccessControl::Set.
#ifndef ATOMIX_BROKER_CONFIG_ACCESS_POLICY_FILE_H_
#define ATOMIX_BROKER_CONFIG_ACCESS_POLICY_FILE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "broker-sim/src/core/access_control.h"
#include "broker-sim/src/core/access_policy.h"

namespace atomix::broker {

// The policy in `text`, read from `path` (for messages). INVALID_ARGUMENT
// with one message "PATH:LINE: ..." naming the key and the problem: a
// syntax error, an unknown key, a value of the wrong type, a bad pattern, an
// unknown right or an unknown role.
absl::StatusOr<std::shared_ptr<const AccessPolicy>> ParseAccessPolicy(
    std::string_view text, const std::string& path);

// The same for the file at `path`; NOT_FOUND naming the path if it cannot
// be read.
absl::StatusOr<std::shared_ptr<const AccessPolicy>> LoadAccessPolicy(
    const std::string& path);

// Loads `path` and, if it is good, puts it in force in `control` at once.
// On error `control` keeps the policy it had, and the error is returned.
absl::Status ReloadAccessPolicy(const std::string& path, AccessControl& control);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CONFIG_ACCESS_POLICY_FILE_H_
