// The broker's config file: TOML, one key per flag.
//
//   # broker.toml (docs/examples/broker.toml lists every key)
//   listen = "127.0.0.1:5679"
//   store = "disk"
//   data_dir = "/var/lib/atomix"
//   etcd_endpoints = ["10.0.0.1:2379", "10.0.0.2:2379"]  # or "a:2379,b:2379"
//   http_listen = "127.0.0.1:5680"
//
// A key is a flag's name without the leading dashes, with '_' for '-'
// (--max-value-bytes is max_value_bytes). Strings for text flags, integers
// for whole numbers, integers or floats for fractions; etcd_endpoints also
// takes an array of strings. Every key at the top level: a table, an
// unknown key or a value of the wrong type is an error.
//
// The file's values become the flags' defaults, checked by the same CLI11
// checks as the flags themselves; command-line flags and ATOMIX_*
// variables, parsed afterwards, win over them.
//
// Thread-safety: none needed; called once from main before parsing.
#ifndef ATOMIX_BROKER_CONFIG_CONFIG_FILE_H_
#define ATOMIX_BROKER_CONFIG_CONFIG_FILE_H_

#include <string>

#include "absl/status/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace atomix::broker {

// Applies the TOML file at `path` to the options of `app` as their
// defaults. INVALID_ARGUMENT with one message naming "PATH:LINE" and the
// problem: a syntax error, `unknown key "x"`, or `key "x": ...` for a
// value of the wrong type or one the flag's check refuses. NOT_FOUND if the
// file cannot be read. On error some keys before the bad one may have been
// applied.
absl::Status ApplyConfigFile(const std::string& path, CLI::App& app);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CONFIG_CONFIG_FILE_H_
