// atomix-broker: the reference atomix broker.
//
//   atomix-broker --listen 127.0.0.1:5679 --data-dir ./data   # durable (default)
//   atomix-broker --listen 127.0.0.1:5679 --store memory     # nothing kept
//   atomix-broker --listen 127.0.0.1:0 --port-file /tmp/port   # for tests
//   atomix-broker --store etcd --etcd-endpoints 10.0.0.1:2379,10.0.0.2:2379
//                 --etcd-prefix /atomix/prod/    # one of N brokers (one line)
//
//   kill -USR1 <pid>   # expires every session at once (for testing clients)
//   kill -USR2 <pid>   # resets every open Stream and Watch call at once
//
// Every flag but --port-file and --fault-* can also be set by environment
// variable (ATOMIX_LISTEN, ATOMIX_LOG_LEVEL, ATOMIX_MAX_VALUE_BYTES,
// ATOMIX_STORE, ATOMIX_WATCH_HISTORY, ATOMIX_WATCH_HISTORY_BYTES); a flag
// wins over its variable. Exit status: 0 after a
// graceful shutdown on SIGTERM/SIGINT, 1 if the broker cannot start (e.g. the
// port is taken), 2 on bad flags.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/disk/disk_store.h"
#include "broker-sim/src/disk/restore.h"
#include "broker-sim/src/etcd/etcd_store.h"
#include "broker-sim/src/http/console.h"
#include "broker-sim/src/http/http_server.h"
#include "broker-sim/src/server/clock.h"
#include "broker-sim/src/server/server.h"
#include "broker-sim/src/server/shutdown_signal.h"
#include "broker-sim/src/store/memory_store.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

#ifndef ATOMIX_VERSION
#define ATOMIX_VERSION "0.0.0"
#endif

namespace {

using atomix::broker::Broker;
using atomix::broker::BrokerServer;
using atomix::broker::Limits;
using atomix::broker::MemoryStore;
using atomix::broker::ServerOptions;

constexpr int kMaxMessageBytes = 64 << 20;
// A value must fit in one message with room for its envelope.
constexpr int64_t kMaxValueBytesLimit = kMaxMessageBytes - (1 << 20);

struct Flags {
  std::string listen = "127.0.0.1:5679";
  std::string log_level = "info";
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
  int max_streams_per_connection = 16384;
  int64_t grpc_memory_mb = 1024;
  std::string http_listen;
  std::string http_port_file;
};

// Writes "<port>\n" to `path` atomically: a reader sees the whole file or
// none.
bool WritePortFile(const std::string& path, int port, std::string& error) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  const std::string text = absl::StrCat(port, "\n");
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                      0644);
  if (fd < 0) {
    error = absl::StrCat(tmp, ": ", std::strerror(errno));
    return false;
  }
  const bool written =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int write_errno = errno;
  if (close(fd) != 0 || !written) {
    error = absl::StrCat(tmp, ": ", std::strerror(written ? errno : write_errno));
    unlink(tmp.c_str());
    return false;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    error = absl::StrCat(path, ": ", std::strerror(errno));
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

int Run(const Flags& flags) {
  if (absl::Status status = atomix::broker::InstallShutdownSignalHandlers();
      !status.ok()) {
    spdlog::error("cannot install signal handlers: {}", status.ToString());
    return 1;
  }

  Limits limits;
  limits.max_value_bytes = flags.max_value_bytes;
  limits.max_session_ttl_ms = flags.max_session_ttl_ms;
  atomix::broker::WatchHistoryOptions history;
  history.max_events = static_cast<size_t>(flags.watch_history);
  history.max_bytes = static_cast<size_t>(flags.watch_history_bytes);
  std::unique_ptr<atomix::broker::Store> store;
  std::string broker_id;
  std::optional<atomix::broker::DiskStore> disk;
  if (flags.store == "disk") {
    atomix::broker::DiskStoreOptions disk_options;
    disk_options.dir = flags.data_dir;
    disk_options.limits = limits;
    disk_options.history = history;
    disk_options.wal.sync = *atomix::broker::ParseSyncMode(flags.sync);
    disk_options.wal.segment_bytes = flags.wal_segment_bytes;
    disk_options.snapshots.every_records = flags.snapshot_records;
    disk_options.snapshots.every_bytes = flags.snapshot_bytes;
    absl::StatusOr<atomix::broker::DiskStore> opened =
        atomix::broker::OpenDiskStore(disk_options);
    if (!opened.ok()) {
      spdlog::error("cannot open the disk store: {}",
                    std::string(opened.status().message()));
      return 1;
    }
    spdlog::info("disk store {}: snapshot {}, then {} log records, in {}; revision {}",
                 flags.data_dir, opened->snapshot_position, opened->records_replayed,
                 absl::FormatDuration(opened->recovery_time),
                 opened->store->revision());
    disk.emplace(*std::move(opened));
    broker_id = disk->broker_id;
    // The broker owns the store; `disk` keeps the data dir locked until
    // after it is gone.
    store = std::move(disk->store);
  } else if (flags.store == "etcd") {
    atomix::broker::EtcdStoreOptions etcd_options;
    etcd_options.endpoints = absl::StrSplit(flags.etcd_endpoints, ',', absl::SkipEmpty());
    etcd_options.prefix = flags.etcd_prefix;
    etcd_options.limits = limits;
    etcd_options.history = history;
    etcd_options.tick_interval = absl::Milliseconds(flags.etcd_tick_ms);
    etcd_options.ticker_ttl = absl::Milliseconds(flags.etcd_ticker_ttl_ms);
    etcd_options.timeout = absl::Milliseconds(flags.etcd_timeout_ms);
    etcd_options.snapshot_entries = flags.etcd_snapshot_entries;
    etcd_options.snapshot_bytes = flags.etcd_snapshot_bytes;
    absl::StatusOr<std::unique_ptr<atomix::broker::EtcdStore>> opened =
        atomix::broker::EtcdStore::Open(etcd_options);
    if (!opened.ok()) {
      spdlog::error("cannot open the etcd store: {}",
                    std::string(opened.status().message()));
      return 1;
    }
    broker_id = (*opened)->cluster_id();
    spdlog::info("etcd store {} at {}: cluster {}, revision {}", flags.etcd_prefix,
                 flags.etcd_endpoints, broker_id, (*opened)->revision());
    store = *std::move(opened);
  } else {
    // Fences must not go back across a restart, though nothing is kept:
    // count from the wall clock in microseconds (see memory_store.h).
    const int64_t first_revision = flags.first_revision >= 0
                                       ? flags.first_revision
                                       : absl::ToUnixMicros(absl::Now());
    store = std::make_unique<MemoryStore>(limits, &atomix::broker::MonotonicNow,
                                          atomix::broker::NewSessionIdBase(), history,
                                          first_revision);
  }
  Broker broker(std::move(store), limits, broker_id);

  ServerOptions options;
  options.listen = flags.listen;
  options.max_message_bytes = kMaxMessageBytes;
  options.max_streams_per_connection = flags.max_streams_per_connection;
  options.grpc_memory_bytes = flags.grpc_memory_mb << 20;
  options.clock = &atomix::broker::MonotonicNow;
  options.faults.drop_responses = flags.fault_drop_responses;
  options.faults.latency = absl::Milliseconds(flags.fault_latency_ms);
  options.faults.seed = flags.fault_seed;
  if (flags.fault_drop_responses > 0 || flags.fault_latency_ms > 0) {
    spdlog::warn(
        "fault injection on: dropping {} of responses, {} ms latency, seed {}",
        flags.fault_drop_responses, flags.fault_latency_ms, flags.fault_seed);
  }
  absl::StatusOr<std::unique_ptr<BrokerServer>> server =
      BrokerServer::Start(broker, options);
  if (!server.ok()) {
    spdlog::error("{}", std::string(server.status().message()));
    return 1;
  }
  if (!flags.port_file.empty()) {
    std::string error;
    if (!WritePortFile(flags.port_file, (*server)->port(), error)) {
      spdlog::error("cannot write the port file {}", error);
      return 1;
    }
  }
  std::optional<atomix::broker::HttpServer> http;
  if (!flags.http_listen.empty()) {
    http.emplace(atomix::broker::HttpServerOptions{.listen = flags.http_listen});
    atomix::broker::RegisterConsole(http->routes(), broker, (*server)->process(),
                                    (*server)->watch_hub());
    if (absl::Status started = http->Start(); !started.ok()) {
      spdlog::error("{}", std::string(started.message()));
      return 1;
    }
    if (!flags.http_port_file.empty()) {
      std::string error;
      if (!WritePortFile(flags.http_port_file, http->port(), error)) {
        spdlog::error("cannot write the HTTP port file {}", error);
        return 1;
      }
    }
    spdlog::info("HTTP on {} (port {})", flags.http_listen, http->port());
  }
  spdlog::info(
      "atomix-broker {} listening on {} (port {}), store {}, broker id {}, "
      "max value {} bytes, watch history {} events / {} bytes",
      ATOMIX_VERSION, flags.listen, (*server)->port(), flags.store,
      broker.id(), limits.max_value_bytes, flags.watch_history,
      flags.watch_history_bytes);

  BrokerServer& running = **server;
  const int sig = atomix::broker::WaitForShutdownSignal(
      [&] {
        spdlog::warn("SIGUSR1 received: expiring every session");
        running.ExpireAllSessions();
      },
      [&] {
        const size_t reset = running.ResetCalls();
        spdlog::warn("SIGUSR2 received: reset {} streams and watches", reset);
      });
  spdlog::info("{} received, shutting down", strsignal(sig));
  if (http) http->Stop();
  (*server)->Shutdown(absl::Seconds(2));
  spdlog::info("stopped at revision {}", broker.store().revision());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"atomix-broker: serves atomix primitives over gRPC",
               "atomix-broker"};
  app.set_version_flag("--version", ATOMIX_VERSION);
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  auto logger = spdlog::stderr_color_mt("atomix-broker");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(flags.log_level));

  if (!flags.restore.empty()) {
    absl::StatusOr<std::string> restored =
        atomix::broker::RestoreDataDir(flags.restore, flags.data_dir);
    if (!restored.ok()) {
      spdlog::error("cannot restore: {}", std::string(restored.status().message()));
      return 1;
    }
    spdlog::info("{}", *restored);
    return 0;
  }
  return Run(flags);
}
