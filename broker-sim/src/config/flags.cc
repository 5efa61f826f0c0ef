// atomix-broker's flags.
#include "broker-sim/src/config/flags.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "broker-sim/src/config/config_file.h"

#ifndef ATOMIX_VERSION
#define ATOMIX_VERSION "0.0.0"
#endif

namespace atomix::broker {
namespace {

// The --config file named on the command line (--config F or --config=F),
// else by ATOMIX_CONFIG; "" if none. Read before parsing, because the file
// supplies the defaults that parsing starts from.
std::string ConfigPath(int argc, const char* const* argv) {
  constexpr std::string_view kFlag = "--config";
  constexpr std::string_view kFlagEquals = "--config=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == kFlag && i + 1 < argc) return argv[i + 1];
    if (arg.substr(0, kFlagEquals.size()) == kFlagEquals) {
      return std::string(arg.substr(kFlagEquals.size()));
    }
  }
  const char* env = std::getenv("ATOMIX_CONFIG");
  return env != nullptr ? env : "";
}

}  // namespace

void DefineBrokerFlags(CLI::App& app, BrokerFlags& flags) {
  app.set_version_flag("--version", ATOMIX_VERSION);
  app.add_option("--config", flags.config,
                 "read flags from this TOML file (keys: flag names with '_' for "
                 "'-'); command-line flags and ATOMIX_* variables win over it")
      ->envname("ATOMIX_CONFIG");
  app.add_option("--log-format", flags.log_format,
                 "text (one line per event), or json (one JSON object per line: "
                 "ts, level, logger, msg)")
      ->envname("ATOMIX_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--listen", flags.listen,
                 "address to listen on, host:port (port 0 picks one)")
      ->envname("ATOMIX_LISTEN")
      ->capture_default_str();
  app.add_option("--log-level", flags.log_level, "trace|debug|info|warn|error")
      ->envname("ATOMIX_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--max-value-bytes", flags.max_value_bytes,
                 "largest value or map value accepted, in bytes")
      ->envname("ATOMIX_MAX_VALUE_BYTES")
      ->check(CLI::Range(int64_t{1}, kMaxValueBytesLimit))
      ->capture_default_str();
  app.add_option("--max-session-ttl-ms", flags.max_session_ttl_ms,
                 "longest session TTL a client may ask for, in milliseconds")
      ->envname("ATOMIX_MAX_SESSION_TTL_MS")
      ->check(CLI::Range(int64_t{10000}, int64_t{7} * 24 * 3600 * 1000))
      ->capture_default_str();
  app.add_option("--store", flags.store,
                 "where state lives: disk (durable, in --data-dir), memory "
                 "(lost on restart) or etcd (a log in an etcd cluster, shared by "
                 "every broker with the same --etcd-prefix)")
      ->envname("ATOMIX_STORE")
      ->check(CLI::IsMember({"disk", "memory", "etcd"}))
      ->capture_default_str();
  app.add_option("--data-dir", flags.data_dir,
                 "the disk store's directory (created if missing)")
      ->envname("ATOMIX_DATA_DIR")
      ->capture_default_str();
  app.add_option("--sync", flags.sync,
                 "when the disk store answers a write: always (after "
                 "fdatasync; survives power loss), batch (synced within "
                 "10 ms; a power loss may drop the last 10 ms), none (never "
                 "synced by the broker; survives a process crash only)")
      ->envname("ATOMIX_SYNC")
      ->check(CLI::IsMember({"always", "batch", "none"}))
      ->capture_default_str();
  app.add_option("--watch-history", flags.watch_history,
                 "watch events kept for watchers to catch up or resume "
                 "(all primitives together)")
      ->envname("ATOMIX_WATCH_HISTORY")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--max-streams-per-connection", flags.max_streams_per_connection,
                 "Stream and Watch calls one client connection may have open at once")
      ->envname("ATOMIX_MAX_STREAMS_PER_CONNECTION")
      ->check(CLI::Range(16, 1 << 20));
  app.add_option("--grpc-memory-mb", flags.grpc_memory_mb,
                 "memory gRPC may hold in transport buffers, over all connections")
      ->envname("ATOMIX_GRPC_MEMORY_MB")
      ->check(CLI::Range(int64_t{16}, int64_t{1} << 20));
  app.add_option("--watch-history-bytes", flags.watch_history_bytes,
                 "serialized bytes of watch events kept, at most")
      ->envname("ATOMIX_WATCH_HISTORY_BYTES")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 50))
      ->capture_default_str();
  app.add_option("--snapshot-records", flags.snapshot_records,
                 "disk store: write a snapshot every this many log records")
      ->envname("ATOMIX_SNAPSHOT_RECORDS")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--snapshot-bytes", flags.snapshot_bytes,
                 "disk store: ... or every this many bytes of log")
      ->envname("ATOMIX_SNAPSHOT_BYTES")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 50))
      ->capture_default_str();
  app.add_option("--wal-segment-bytes", flags.wal_segment_bytes,
                 "disk store: start a new log segment past this size")
      ->envname("ATOMIX_WAL_SEGMENT_BYTES")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--etcd-endpoints", flags.etcd_endpoints,
                 "etcd store: the etcd cluster's client endpoints, host:port,...")
      ->envname("ATOMIX_ETCD_ENDPOINTS")
      ->capture_default_str();
  app.add_option("--etcd-prefix", flags.etcd_prefix,
                 "etcd store: every key of this atomix cluster starts with "
                 "this (ends with '/')")
      ->envname("ATOMIX_ETCD_PREFIX")
      ->capture_default_str();
  app.add_option("--etcd-tick-ms", flags.etcd_tick_ms,
                 "etcd store: how often the elected ticker appends a tick "
                 "(the precision of TTLs and lock timeouts)")
      ->envname("ATOMIX_ETCD_TICK_MS")
      ->check(CLI::Range(int64_t{10}, int64_t{10000}))
      ->capture_default_str();
  app.add_option("--etcd-ticker-ttl-ms", flags.etcd_ticker_ttl_ms,
                 "etcd store: the ticker's lease; a dead ticker is replaced "
                 "after about this long")
      ->envname("ATOMIX_ETCD_TICKER_TTL_MS")
      ->check(CLI::Range(int64_t{1000}, int64_t{60000}))
      ->capture_default_str();
  app.add_option("--etcd-timeout-ms", flags.etcd_timeout_ms,
                 "etcd store: the longest a call to etcd, or a write's wait to "
                 "be applied, may take")
      ->envname("ATOMIX_ETCD_TIMEOUT_MS")
      ->check(CLI::Range(int64_t{100}, int64_t{600000}))
      ->capture_default_str();
  app.add_option("--etcd-snapshot-entries", flags.etcd_snapshot_entries,
                 "etcd store: the ticker snapshots state into etcd every this "
                 "many log entries, and deletes the log behind the previous snapshot")
      ->envname("ATOMIX_ETCD_SNAPSHOT_ENTRIES")
      ->check(CLI::Range(uint64_t{10}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--etcd-snapshot-bytes", flags.etcd_snapshot_bytes,
                 "etcd store: ... or every this many bytes of log entries")
      ->envname("ATOMIX_ETCD_SNAPSHOT_BYTES")
      ->check(CLI::Range(uint64_t{1} << 16, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--first-revision", flags.first_revision,
                 "memory store: revisions start above this; default: the wall "
                 "clock in microseconds, so fences rise across restarts")
      ->envname("ATOMIX_FIRST_REVISION")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 60));
  app.add_option("--restore", flags.restore,
                 "create --data-dir from this backup file (Admin.Backup), then "
                 "exit; the directory must not exist or be empty");
  app.add_option("--http-listen", flags.http_listen,
                 "serve HTTP (metrics, health, console) on host:port; empty: no HTTP")
      ->envname("ATOMIX_HTTP_LISTEN");
  app.add_option("--http-port-file", flags.http_port_file,
                 "after binding HTTP, write its bound port to this file");
  app.add_option("--port-file", flags.port_file,
                 "after binding, write the bound port to this file");
  app.add_option("--fault-drop-responses", flags.fault_drop_responses,
                 "testing: drop this fraction of responses after applying")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--fault-latency-ms", flags.fault_latency_ms,
                 "testing: delay every response by this many milliseconds")
      ->check(CLI::Range(int64_t{0}, int64_t{60000}))
      ->capture_default_str();
  app.add_option("--fault-seed", flags.fault_seed,
                 "testing: seed of the fault injection random generator")
      ->capture_default_str();
  // TLS and authentication (docs/security.md); re-read on SIGHUP.
  app.add_option("--tls-cert", flags.tls_cert,
                 "serve TLS with this PEM certificate (chain); needs --tls-key; "
                 "empty: plaintext")
      ->envname("ATOMIX_TLS_CERT");
  app.add_option("--tls-key", flags.tls_key, "the PEM private key of --tls-cert")
      ->envname("ATOMIX_TLS_KEY");
  app.add_option("--tls-client-ca", flags.tls_client_ca,
                 "mutual TLS: clients must present a certificate signed by a CA "
                 "in this PEM file")
      ->envname("ATOMIX_TLS_CLIENT_CA");
  app.add_option("--auth", flags.auth,
                 "who may call: none (everyone, anonymous), token (a bearer token "
                 "of --auth-tokens), cert (a client certificate; its subject CN "
                 "is the principal), any (a token, else a certificate)")
      ->envname("ATOMIX_AUTH")
      ->check(CLI::IsMember({"none", "token", "cert", "any"}))
      ->capture_default_str();
  app.add_option("--auth-tokens", flags.auth_tokens,
                 "file of '<principal> <sha256 hex of token>' lines")
      ->envname("ATOMIX_AUTH_TOKENS");
  app.add_option("--acl-policy", flags.acl_policy,
                 "access policy file (TOML: roles granting read, write, lock and "
                 "admin over name patterns, and the principals that have them); "
                 "re-read on SIGHUP; empty: no access control")
      ->envname("ATOMIX_ACL_POLICY");
  // Transport limits against hostile clients (docs/security.md).
  app.add_option("--max-watches-per-client", flags.max_watches_per_client,
                 "Watch calls one client connection may have open at once "
                 "(0: no limit); the next is refused with RESOURCE_EXHAUSTED")
      ->envname("ATOMIX_MAX_WATCHES_PER_CLIENT")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20))
      ->capture_default_str();
  app.add_option("--max-stream-queued-mb", flags.max_stream_queued_mb,
                 "serialized answers one Stream may have waiting to be written "
                 "before the broker stops reading that stream")
      ->envname("ATOMIX_MAX_STREAM_QUEUED_MB")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  app.add_option("--max-stream-queued-total-mb", flags.max_stream_queued_total_mb,
                 "serialized answers all Streams together may have waiting to be "
                 "written; past it a Stream with answers waiting is not read")
      ->envname("ATOMIX_MAX_STREAM_QUEUED_TOTAL_MB")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  // Quotas: each refusal is RESOURCE_EXHAUSTED naming the limit and flag.
  app.add_option("--max-sessions", flags.max_sessions,
                 "sessions open at once over all principals (0: no limit)")
      ->envname("ATOMIX_MAX_SESSIONS")
      ->capture_default_str();
  app.add_option("--max-sessions-per-principal", flags.max_sessions_per_principal,
                 "sessions one principal may have open at once (0: no limit)")
      ->envname("ATOMIX_MAX_SESSIONS_PER_PRINCIPAL")
      ->capture_default_str();
  app.add_option("--max-primitives-per-namespace", flags.max_primitives_per_namespace,
                 "primitives that may exist per namespace: a name up to its first "
                 "'/', or \"\" (0: no limit)")
      ->envname("ATOMIX_MAX_PRIMITIVES_PER_NAMESPACE")
      ->capture_default_str();
  app.add_option("--max-unacked-bytes", flags.max_unacked_bytes,
                 "bytes of unacknowledged answers one session keeps for retries; "
                 "new sequenced requests are refused at or above it (0: no limit)")
      ->envname("ATOMIX_MAX_UNACKED_BYTES")
      ->capture_default_str();
  app.add_option("--max-unacked-bytes-total", flags.max_unacked_bytes_total,
                 "the same over all sessions together (0: no limit)")
      ->envname("ATOMIX_MAX_UNACKED_BYTES_TOTAL")
      ->capture_default_str();
  app.add_option("--max-batch-answer-bytes", flags.max_batch_answer_bytes,
                 "once one batch's answers pass this many bytes, its remaining "
                 "requests are refused unapplied (0: no limit)")
      ->envname("ATOMIX_MAX_BATCH_ANSWER_BYTES")
      ->capture_default_str();
}

int ParseBrokerFlags(int argc, const char* const* argv, BrokerFlags& flags) {
  CLI::App app{"atomix-broker: serves atomix primitives over gRPC", "atomix-broker"};
  DefineBrokerFlags(app, flags);
  if (const std::string path = ConfigPath(argc, argv); !path.empty()) {
    if (absl::Status applied = ApplyConfigFile(path, app); !applied.ok()) {
      std::fprintf(stderr, "atomix-broker: %s\n", std::string(applied.message()).c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return -1;
}

}  // namespace atomix::broker
