// The access policy file (TOML).
#include "broker-sim/src/config/access_policy_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "toml++/toml.h"

namespace atomix::broker {
namespace {

// Reads one file into one policy, stopping at the first error.
class PolicyReader {
 public:
  explicit PolicyReader(const std::string& path) : path_(path) {}

  absl::Status Read(const toml::table& file, AccessPolicy& policy) {
    for (auto&& [key, node] : file) {
      const std::string k(key.str());
      if (k != "roles" && k != "principals" && k != "anonymous" && k != "authenticated") {
        return Error(key.source(), absl::StrCat(
            "unknown key \"", k,
            "\" (expected anonymous, authenticated, [roles.NAME] or [principals])"));
      }
    }
    // Roles first: the rest names them.
    if (const toml::node* roles = file.get("roles")) {
      const toml::table* table = roles->as_table();
      if (table == nullptr) {
        return Error(roles->source(), "key \"roles\": expected a table of roles, "
                                      "as [roles.NAME]");
      }
      for (auto&& [name, role] : *table) {
        if (absl::Status s = ReadRole(std::string(name.str()), name.source(), role, policy);
            !s.ok()) {
          return s;
        }
      }
    }
    for (const char* key : {"anonymous", "authenticated"}) {
      const toml::node* roles = file.get(key);
      if (roles == nullptr) continue;
      if (absl::Status s = ReadRoleList(std::string(key), *roles, policy,
                                        [&](std::string_view role) {
                                          return std::string_view(key) == "anonymous"
                                                     ? policy.GiveAnonymousRole(role)
                                                     : policy.GiveAuthenticatedRole(role);
                                        });
          !s.ok()) {
        return s;
      }
    }
    if (const toml::node* principals = file.get("principals")) {
      const toml::table* table = principals->as_table();
      if (table == nullptr) {
        return Error(principals->source(),
                     "key \"principals\": expected a table of principal = [roles]");
      }
      for (auto&& [name, roles] : *table) {
        const std::string principal(name.str());
        const std::string key = absl::StrCat("principals.", principal);
        if (principal.empty()) {
          return Error(name.source(),
                       "key \"principals.\\\"\\\"\": the anonymous principal's roles go "
                       "in the top-level key anonymous = [...]");
        }
        if (absl::Status s = ReadRoleList(key, roles, policy,
                                          [&](std::string_view role) {
                                            return policy.GiveRole(principal, role);
                                          });
            !s.ok()) {
          return s;
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(const toml::source_region& where, const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ":", where.begin.line, ": ", what));
  }

  absl::Status ReadRole(const std::string& role, const toml::source_region& where,
                        const toml::node& node, AccessPolicy& policy) {
    const toml::table* rights = node.as_table();
    if (rights == nullptr) {
      return Error(where, absl::StrCat("key \"roles.", role,
                                       "\": expected a table of rights, as [roles.", role,
                                       "] with read, write, lock or admin = [patterns]"));
    }
    policy.AddRole(role);
    for (auto&& [name, patterns] : *rights) {
      const std::string right_name(name.str());
      const std::string key = absl::StrCat("roles.", role, ".", right_name);
      const std::optional<AccessRight> right = ParseRight(right_name);
      if (!right.has_value()) {
        return Error(name.source(),
                     absl::StrCat("key \"", key, "\": unknown right \"", right_name,
                                  "\" (rights are read, write, lock and admin)"));
      }
      const toml::array* list = patterns.as_array();
      if (list == nullptr) {
        return Error(patterns.source(),
                     absl::StrCat("key \"", key, "\": expected an array of name patterns, "
                                                 "as [\"jobs/\", \"config\"]"));
      }
      for (const toml::node& item : *list) {
        const toml::value<std::string>* text = item.as_string();
        if (text == nullptr) {
          return Error(item.source(), absl::StrCat("key \"", key,
                                                   "\": expected an array of name patterns "
                                                   "(strings)"));
        }
        absl::StatusOr<NamePattern> pattern = NamePattern::Parse(text->get());
        if (!pattern.ok()) {
          return Error(item.source(),
                       absl::StrCat("key \"", key, "\": ", pattern.status().message()));
        }
        policy.Grant(role, *right, *std::move(pattern));
      }
    }
    return absl::OkStatus();
  }

  template <typename Give>
  absl::Status ReadRoleList(const std::string& key, const toml::node& node,
                            AccessPolicy& policy, Give give) {
    const toml::array* list = node.as_array();
    if (list == nullptr) {
      return Error(node.source(), absl::StrCat("key \"", key,
                                               "\": expected an array of role names"));
    }
    for (const toml::node& item : *list) {
      const toml::value<std::string>* role = item.as_string();
      if (role == nullptr) {
        return Error(item.source(), absl::StrCat("key \"", key,
                                                 "\": expected an array of role names "
                                                 "(strings)"));
      }
      if (!policy.HasRole(role->get())) {
        return Error(item.source(),
                     absl::StrCat("key \"", key, "\": unknown role \"", role->get(),
                                  "\" (no [roles.", role->get(), "] table)"));
      }
      if (absl::Status given = give(role->get()); !given.ok()) {
        return Error(item.source(),
                     absl::StrCat("key \"", key, "\": ", given.message()));
      }
    }
    return absl::OkStatus();
  }

  const std::string& path_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const AccessPolicy>> ParseAccessPolicy(
    std::string_view text, const std::string& path) {
  toml::table file;
  try {
    file = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.source().begin.line, ":",
                                                   e.source().begin.column, ": ",
                                                   std::string(e.description())));
  }
  auto policy = std::make_shared<AccessPolicy>();
  if (absl::Status read = PolicyReader(path).Read(file, *policy); !read.ok()) return read;
  return std::shared_ptr<const AccessPolicy>(std::move(policy));
}

absl::StatusOr<std::shared_ptr<const AccessPolicy>> LoadAccessPolicy(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read the access policy file ", path,
                                            ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseAccessPolicy(text.str(), path);
}

absl::Status ReloadAccessPolicy(const std::string& path, AccessControl& control) {
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> loaded = LoadAccessPolicy(path);
  if (!loaded.ok()) return loaded.status();
  control.Set(*std::move(loaded));
  return absl::OkStatus();
}

}  // namespace atomix::broker
