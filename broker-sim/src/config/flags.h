// atomix-broker's flags: their values, their definitions (CLI11) and how
// they are read, from the command line, the environment and a config file.
//
//   BrokerFlags flags;
//   if (int code = ParseBrokerFlags(argc, argv, flags); code >= 0) return code;
//
// Precedence, highest first: a command-line flag, its environment variable
// (ATOMIX_<NAME>), the config file (--config FILE, or ATOMIX_CONFIG; TOML,
// see config_file.h), the built-in default. Every source goes through the
// same CLI11 checks.
//
// Thread-safety: call from one thread (main), before any other starts.
#ifndef ATOMIX_BROKER_CONFIG_FLAGS_H_
#define ATOMIX_BROKER_CONFIG_FLAGS_H_

#include <cstdint>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace atomix::broker {

inline constexpr int kMaxMessageBytes = 64 << 20;
// A value must fit in one message with room for its envelope.
inline constexpr int64_t kMaxValueBytesLimit = kMaxMessageBytes - (1 << 20);

struct BrokerFlags {
  std::string config;
  std::string listen = "127.0.0.1:5679";
  std::string log_level = "info";
  std::string log_format = "text";
  int64_t max_value_bytes = 1 << 20;
  int64_t max_session_ttl_ms = 3600000;
  std::string store = "disk";
  std::string data_dir = "./data";
  std::string sync = "always";
  uint64_t snapshot_records = 100000;
  uint64_t snapshot_bytes = 64 << 20;
  uint64_t wal_segment_bytes = 64 << 20;
  std::string restore;
  std::string etcd_endpoints = "127.0.0.1:2379";
  std::string etcd_prefix = "/atomix/default/";
  int64_t etcd_tick_ms = 100;
  int64_t etcd_ticker_ttl_ms = 2000;
  int64_t etcd_timeout_ms = 5000;
  uint64_t etcd_snapshot_entries = 10000;
  uint64_t etcd_snapshot_bytes = 32 << 20;
  int64_t first_revision = -1;
  std::string port_file;
  double fault_drop_responses = 0;
  int64_t fault_latency_ms = 0;
  uint64_t fault_seed = 1;
  int64_t watch_history = 100000;
  int64_t watch_history_bytes = 64 << 20;
  int max_streams_per_connection = 1024;
  int64_t grpc_memory_mb = 1024;
  std::string http_listen;
  std::string http_port_file;
  // TLS and authentication (docs/security.md).
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string auth = "none";
  std::string auth_tokens;
  // The access policy file (config/access_policy_file.h); "": none, every
  // call may do everything.
  std::string acl_policy;
  // Transport limits against hostile clients (docs/security.md).
  int64_t max_watches_per_client = 1000;
  int64_t max_stream_queued_mb = 8;
  int64_t max_stream_queued_total_mb = 256;
  // Quotas (docs/security.md, "Quotas"); 0: no limit.
  uint64_t max_sessions = 100000;
  uint64_t max_sessions_per_principal = 10000;
  uint64_t max_primitives_per_namespace = 100000;
  uint64_t max_unacked_bytes = uint64_t{8} << 20;
  uint64_t max_unacked_bytes_total = uint64_t{2} << 30;
  uint64_t max_batch_answer_bytes = uint64_t{16} << 20;
};

// Defines every flag of atomix-broker on `app`, bound to `flags`, which
// must outlive it.
void DefineBrokerFlags(CLI::App& app, BrokerFlags& flags);

// Reads the flags from `argv`, the environment and the config file (see
// above). Returns -1 to go on, or the exit code after printing what is
// wrong to stderr (or --help / --version to stdout): 0 for --help and
// --version, 2 for a bad flag, variable or config file.
int ParseBrokerFlags(int argc, const char* const* argv, BrokerFlags& flags);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CONFIG_FLAGS_H_
