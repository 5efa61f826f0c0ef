// atomix-broker: the reference atomix broker.
//
//   atomix-broker --listen 127.0.0.1:5679 --data-dir ./data   # durable (default)
//   atomix-broker --listen 127.0.0.1:5679 --store memory     # nothing kept
//   atomix-broker --listen 127.0.0.1:0 --port-file /tmp/port   # for tests
//   atomix-broker --store etcd --etcd-endpoints 10.0.0.1:2379,10.0.0.2:2379
//                 --etcd-prefix /atomix/prod/    # one of N brokers (one line)
//
//   atomix-broker --config /etc/atomix/broker.toml         # flags from a file
//   atomix-broker --http-listen 127.0.0.1:5680 --log-format json
//                 # GET /metrics (Prometheus), /healthz, /readyz; JSON logs
//
//   kill -USR1 <pid>   # expires every session at once (for testing clients)
//   kill -USR2 <pid>   # resets every open Stream and Watch call at once
//
// Flags (config/flags.cc) come from, highest first: the command line, the
// environment (ATOMIX_LISTEN, ATOMIX_LOG_LEVEL, ATOMIX_STORE, ... for most
// flags; --help names each variable), the TOML file of --config
// (config/config_file.h; docs/examples/broker.toml lists every key), then
// the defaults. Exit status: 0 after a graceful shutdown on SIGTERM/SIGINT,
// 1 if the broker cannot start (e.g. the port is taken), 2 on bad flags, a
// bad variable, a bad config file or a bad access policy file
// (--acl-policy; SIGHUP re-reads it, keeping the old policy if the new one
// is bad).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "broker-sim/src/config/access_policy_file.h"
#include "broker-sim/src/config/flags.h"
#include "broker-sim/src/config/logging.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/disk/disk_store.h"
#include "broker-sim/src/disk/restore.h"
#include "broker-sim/src/etcd/etcd_store.h"
#include "broker-sim/src/http/console.h"

#include "broker-sim/src/http/health.h"
#include "broker-sim/src/http/http_server.h"
#include "broker-sim/src/http/metrics.h"
#include "broker-sim/src/server/clock.h"
#include "broker-sim/src/server/security_setup.h"
#include "broker-sim/src/server/server.h"
#include "broker-sim/src/server/shutdown_signal.h"
#include "broker-sim/src/store/memory_store.h"
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

using Flags = atomix::broker::BrokerFlags;
using atomix::broker::kMaxMessageBytes;

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

// Whether host:port `listen` is a loopback address.
bool IsLoopback(const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

int Run(const Flags& flags) {
  if (absl::Status status = atomix::broker::InstallShutdownSignalHandlers();
      !status.ok()) {
    spdlog::error("cannot install signal handlers: {}", status.ToString());
    return 1;
  }

  // TLS and authentication (docs/security.md): flags that do not fit
  // together are flag errors (2); a bad file stops the start (1).
  atomix::broker::SecurityOptions security_options;
  security_options.listen = flags.listen;
  security_options.tls = {flags.tls_cert, flags.tls_key, flags.tls_client_ca};
  security_options.auth = flags.auth;
  security_options.auth_tokens = flags.auth_tokens;
  if (absl::Status fits = atomix::broker::CheckSecurityOptions(security_options);
      !fits.ok()) {
    spdlog::error("{}", std::string(fits.message()));
    return 2;
  }
  absl::StatusOr<atomix::broker::BrokerSecurity> security =
      atomix::broker::SetUpSecurity(security_options);
  if (!security.ok()) {
    spdlog::error("{}", std::string(security.status().message()));
    return 1;
  }

  // Before anything opens: a bad policy file is a configuration error.
  std::shared_ptr<const atomix::broker::AccessPolicy> policy;
  if (!flags.acl_policy.empty()) {
    auto loaded = atomix::broker::LoadAccessPolicy(flags.acl_policy);
    if (!loaded.ok()) {
      spdlog::error("{}", std::string(loaded.status().message()));
      return 2;
    }
    policy = *std::move(loaded);
    spdlog::info("access policy {}: {} roles, {} principals", flags.acl_policy,
                 policy->roles(), policy->principals());
  }

  // Before the store and the broker, which report to it.
  std::optional<atomix::broker::BrokerMetrics> metrics;
  if (!flags.http_listen.empty()) metrics.emplace();

  Limits limits;
  limits.max_value_bytes = flags.max_value_bytes;
  limits.max_session_ttl_ms = flags.max_session_ttl_ms;
  limits.max_sessions = flags.max_sessions;
  limits.max_sessions_per_principal = flags.max_sessions_per_principal;
  limits.max_primitives_per_namespace = flags.max_primitives_per_namespace;
  limits.max_unacked_bytes = flags.max_unacked_bytes;
  limits.max_unacked_bytes_total = flags.max_unacked_bytes_total;
  limits.max_batch_answer_bytes = flags.max_batch_answer_bytes;
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
    if (metrics) disk_options.wal.on_sync = metrics->SyncObserver();
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
                                          first_revision,
                                          atomix::broker::NewSessionKey());
  }
  Broker broker(std::move(store), limits, broker_id);
  if (metrics) broker.SetObserver(&*metrics);
  broker.access().Set(policy);

  ServerOptions options;
  options.listen = flags.listen;
  options.max_message_bytes = kMaxMessageBytes;
  options.max_streams_per_connection = flags.max_streams_per_connection;
  options.grpc_memory_bytes = flags.grpc_memory_mb << 20;
  options.watch.max_watches_per_client =
      static_cast<size_t>(flags.max_watches_per_client);
  options.stream.max_queued_bytes =
      static_cast<size_t>(flags.max_stream_queued_mb) << 20;
  options.stream.max_total_queued_bytes =
      static_cast<size_t>(flags.max_stream_queued_total_mb) << 20;
  options.clock = &atomix::broker::MonotonicNow;
  options.faults.drop_responses = flags.fault_drop_responses;
  options.faults.latency = absl::Milliseconds(flags.fault_latency_ms);
  options.faults.seed = flags.fault_seed;
  options.credentials = security->credentials();
  options.authenticator = security->auth;
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
    metrics->Attach(broker, (*server)->process());
    atomix::broker::ServeMetrics(http->routes(), *metrics);
    atomix::broker::ServeHealth(http->routes(), broker);
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
  // What SIGHUP re-reads (certificates, tokens, the access policy); each
  // reloader logs what it did and keeps the old state if the new is bad.
  std::vector<std::function<void()>> reloaders;
  for (auto& reload : security->Reloaders()) reloaders.push_back(std::move(reload));
  atomix::broker::LogSecurity(security_options, *security);
  if (!flags.acl_policy.empty()) {
    reloaders.push_back([&broker, path = flags.acl_policy] {
      if (absl::Status reloaded = atomix::broker::ReloadAccessPolicy(path, broker.access());
          !reloaded.ok()) {
        spdlog::error("access policy not reloaded, the old one stays in force: {}",
                      std::string(reloaded.message()));
        return;
      }
      const auto now = broker.access().Current();
      spdlog::info("access policy {} reloaded: {} roles, {} principals", path, now->roles(),
                   now->principals());
    });
    if (http && !IsLoopback(flags.http_listen)) {
      spdlog::warn("the HTTP console on {} is not subject to --acl-policy: bind "
                   "--http-listen to loopback or keep it private",
                   flags.http_listen);
    }
  }
  const int sig = atomix::broker::WaitForShutdownSignal(
      [&] {
        spdlog::warn("SIGUSR1 received: expiring every session");
        running.ExpireAllSessions();
      },
      [&] {
        const size_t reset = running.ResetCalls();
        spdlog::warn("SIGUSR2 received: reset {} streams and watches", reset);
      },
      [&] {
        spdlog::info("SIGHUP received: reloading {} file sets", reloaders.size());
        for (const auto& reload : reloaders) reload();
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
  if (const int code = atomix::broker::ParseBrokerFlags(argc, argv, flags); code >= 0) {
    return code;
  }
  atomix::broker::SetUpLogging(flags.log_format, flags.log_level);

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
