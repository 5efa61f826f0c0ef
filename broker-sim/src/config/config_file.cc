// The broker's TOML config file, applied as CLI11 defaults.
#include "broker-sim/src/config/config_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "toml++/toml.h"

namespace atomix::broker {
namespace {

// Keys that are flags but make no sense in the file.
bool NotAKey(std::string_view key) {
  return key == "config" || key == "help" || key == "version";
}

// Flags that take a comma-separated list, which the file may give as an
// array of strings.
bool TakesList(std::string_view key) { return key == "etcd_endpoints"; }

// CLI11's type name without its checks: "INT", "UINT", "FLOAT", "TEXT".
std::string BaseType(const CLI::Option& option) {
  const std::string full = option.get_type_name();
  return full.substr(0, full.find(':'));
}

// The flag's value as CLI11 would read it from the command line, or the
// reason the TOML value has the wrong type.
std::optional<std::string> FlagText(std::string_view key, const std::string& type,
                                    const toml::node& node, std::string& error) {
  if (type == "TEXT") {
    if (const auto* text = node.as_string()) return text->get();
    if (const auto* array = node.as_array(); array != nullptr && TakesList(key)) {
      std::vector<std::string> items;
      for (const toml::node& item : *array) {
        if (!item.is_string()) {
          error = "expected an array of strings";
          return std::nullopt;
        }
        items.push_back(item.as_string()->get());
      }
      return absl::StrJoin(items, ",");
    }
    error = TakesList(key) ? "expected a string or an array of strings"
                           : "expected a string";
    return std::nullopt;
  }
  if (type == "INT" || type == "UINT") {
    if (const auto* number = node.as_integer()) return absl::StrCat(number->get());
    error = "expected an integer";
    return std::nullopt;
  }
  if (type == "FLOAT") {
    if (const auto* number = node.as_floating_point()) {
      return absl::StrFormat("%.17g", number->get());
    }
    if (const auto* number = node.as_integer()) return absl::StrCat(number->get());
    error = "expected a number";
    return std::nullopt;
  }
  error = absl::StrCat("flags of type ", type, " cannot be set in a config file");
  return std::nullopt;
}

}  // namespace

absl::Status ApplyConfigFile(const std::string& path, CLI::App& app) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the config file ", path, ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  toml::table table;
  try {
    table = toml::parse(text.str(), path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.source().begin.line, ":",
                                                   e.source().begin.column, ": ",
                                                   std::string(e.description())));
  }
  for (auto&& [toml_key, node] : table) {
    const std::string key(toml_key.str());
    const std::string where = absl::StrCat(path, ":", toml_key.source().begin.line);
    CLI::Option* option =
        NotAKey(key) || key.find('-') != std::string::npos
            ? nullptr
            : app.get_option_no_throw(absl::StrCat("--", absl::StrReplaceAll(key, {{"_", "-"}})));
    if (option == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": unknown key \"", key,
          "\" (keys are flag names with '_' for '-': atomix-broker --help lists them)"));
    }
    std::string error;
    std::optional<std::string> value = FlagText(key, BaseType(*option), node, error);
    if (!value.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": key \"", key, "\": ", error));
    }
    try {
      option->default_val(*value);
    } catch (const CLI::Error& e) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": key \"", key, "\": bad value \"", *value, "\": ", e.what()));
    }
  }
  return absl::OkStatus();
}

}  // namespace atomix::broker
