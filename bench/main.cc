// atomix-bench: load generator for a running atomix-broker.
//
//   atomix-bench --broker 127.0.0.1:5679 --workload counter-increment \
//                --callers 64 --duration 10 [--transport stream|unary] [--json]
//
// Every caller is a thread issuing one synchronous call after another through
// one shared Client, which is how an application with many threads uses the
// SDK; with --async --inflight N instead, one thread keeps N asynchronous
// calls in flight (atomix/future.h). Workloads: counter-increment,
// counter-get, map-put, map-get, map-fill (--value-bytes, --keys),
// value-cas (a contended compare-and-set loop), lock-cycle. With --store S
// the bench first checks (Admin.Status) that every broker runs store S.
// Prints ops/s and p50/p90/p99/p99.9 latency; ops/s is on the last line (in
// JSON mode the last line is one JSON object ending with "ops_per_sec").
//
//   atomix-bench --broker 127.0.0.1:5679 --workload lock-handoff --callers 8 \
//                --processes 2 --duration 5
//
// measures how long the lock takes to pass between contenders in different
// processes (see bench/lock_handoff.h).
//
//   atomix-bench --broker 127.0.0.1:5679 --workload election-failover \
//                --ttl-ms 1000,2000,5000 --repeat 5 [--poll-ms 5] [--json]
//
// measures instead how long an election is leaderless after its leader's
// process is killed with SIGKILL, per session TTL (see bench/failover.h). It
// prints one line per TTL: "ttl T ms: failover min A median B max C ms ..."
// (in JSON mode one object per TTL). atomix-bench runs the leader as a child
// of itself, with the internal flag --lead.
//
//   atomix-bench --broker 127.0.0.1:5679 --workload watch-fanout --watchers 100 \
//                --duration 5 [--writers 1 | --rate 1000] [--consumers 2] [--json]
//   atomix-bench --redis 127.0.0.1:6379 --workload redis-fanout --watchers 100 ...
//
// measure write-to-delivery latency and delivered events/s when N watchers
// (Map watches, or Redis pub/sub subscribers) follow one writer pattern, and
// check that every watcher got every write exactly once, in order (exit 1
// otherwise); see bench/fanout.h. The last line is "events/s N" (in JSON
// mode one object ending with "events_per_sec").
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "atomix/atomix.h"
#include "atomix/v1/admin.grpc.pb.h"
#include "bench/failover.h"
#include "bench/grpc_pingpong.h"
#include "bench/lock_handoff.h"
#include "grpcpp/create_channel.h"
#include "bench/fanout.h"
#include "bench/redis_fanout.h"
#include "bench/watch_fanout.h"
#include "bench/etcd_put.h"
#include "bench/workloads.h"

namespace {

int RunFailover(const atomix::ClientOptions& options, const std::vector<int>& ttls_ms, int repeat,
                int poll_ms, bool json) {
  atomix::bench::FailoverOptions f;
  for (int t : ttls_ms) f.ttls.push_back(std::chrono::milliseconds(t));
  f.repeat = repeat;
  f.poll = std::chrono::milliseconds(poll_ms);
  if (!json) {
    std::printf("workload %s, %d kills per TTL, GetTerm every %d ms\n",
                atomix::bench::kElectionFailover, repeat, poll_ms);
  }
  auto results = atomix::bench::RunElectionFailover(options, f);
  if (!results.ok()) {
    std::fprintf(stderr, "atomix-bench: %s\n", results.status().ToString().c_str());
    return 1;
  }
  for (const atomix::bench::FailoverResult& r : *results) {
    std::string samples;
    for (double ms : r.samples_ms) {
      if (!samples.empty()) samples += json ? ", " : " ";
      samples += std::to_string(static_cast<int64_t>(ms + 0.5));
    }
    if (json) {
      std::printf(
          "{\"workload\": \"%s\", \"ttl_ms\": %lld, \"runs\": %zu, \"samples_ms\": [%s], "
          "\"min_ms\": %.1f, \"median_ms\": %.1f, \"max_ms\": %.1f}\n",
          atomix::bench::kElectionFailover, static_cast<long long>(r.ttl.count()),
          r.samples_ms.size(), samples.c_str(), r.min_ms, r.median_ms, r.max_ms);
    } else {
      std::printf("ttl %lld ms: failover min %.1f median %.1f max %.1f ms (runs: %s)\n",
                  static_cast<long long>(r.ttl.count()), r.min_ms, r.median_ms, r.max_ms,
                  samples.c_str());
    }
  }
  return 0;
}

int RunFanout(const std::string& workload, const atomix::ClientOptions& options,
              const std::string& redis, const atomix::bench::FanoutOptions& f,
              int watchers_per_client, bool json) {
  const bool on_redis = workload == atomix::bench::kRedisFanout;
  const int clients = (f.watchers + watchers_per_client - 1) / watchers_per_client;
  auto result = on_redis ? atomix::bench::RunRedisFanout(redis, f)
                         : atomix::bench::RunWatchFanout(options, f, watchers_per_client);
  if (!result.ok()) {
    std::fprintf(stderr, "atomix-bench: %s\n", result.status().ToString().c_str());
    return 1;
  }
  const atomix::bench::FanoutResult& r = *result;
  const bool ok = r.check_error.empty();
  std::string writers =
      f.rate > 0 ? "open loop at " + std::to_string(static_cast<int64_t>(f.rate)) + " writes/s"
                 : "closed loop, " + std::to_string(f.writers) + " writers";
  if (json) {
    std::printf(
        "{\"workload\": \"%s\", \"watchers\": %d, \"connections\": %d, \"writers\": %d, "
        "\"rate\": %.0f, \"value_bytes\": %d, \"duration_s\": %.3f, \"writes\": %lld, "
        "\"total_writes\": %lld, \"deliveries\": %lld, \"exactly_once_in_order\": %s, "
        "\"writes_per_sec\": %.0f, \"p50_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f, "
        "\"last_p50_us\": %.1f, \"last_p99_us\": %.1f, \"events_per_sec\": %.0f}\n",
        workload.c_str(), r.watchers, on_redis ? r.watchers : clients, f.rate > 0 ? 1 : f.writers,
        f.rate, f.value_bytes, r.seconds, static_cast<long long>(r.writes),
        static_cast<long long>(r.total_writes), static_cast<long long>(r.deliveries),
        ok ? "true" : "false", r.writes_per_sec, r.p50_us, r.p99_us, r.max_us, r.last_p50_us,
        r.last_p99_us, r.events_per_sec);
  } else {
    std::printf("workload %s, %d watchers on %d %s, %s, %.1f s\n", workload.c_str(), r.watchers,
                on_redis ? r.watchers : clients, on_redis ? "connections" : "clients",
                writers.c_str(), r.seconds);
    std::printf(
        "writes %lld (writes/s %.0f), deliveries %lld, %s\n", static_cast<long long>(r.writes),
        r.writes_per_sec, static_cast<long long>(r.deliveries),
        ok ? "every watcher got every write exactly once, in order" : "DELIVERY CHECK FAILED");
    std::printf("latency p50 %.1f us, p99 %.1f us, max %.1f us\n", r.p50_us, r.p99_us, r.max_us);
    if (f.rate <= 0) {
      std::printf("last watcher p50 %.1f us, p99 %.1f us\n", r.last_p50_us, r.last_p99_us);
    }
    std::printf("events/s %.0f\n", r.events_per_sec);
  }
  if (!ok) {
    std::fprintf(stderr, "atomix-bench: delivery check failed: %s\n", r.check_error.c_str());
    return 1;
  }
  return 0;
}

// OK if every broker in `endpoints` reports `store` in Admin.Status.
absl::Status CheckStore(const std::vector<std::string>& endpoints, const std::string& store) {
  for (const std::string& endpoint : endpoints) {
    auto stub = atomix::v1::Admin::NewStub(
        grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    atomix::v1::StatusResponse status;
    grpc::Status s = stub->Status(&context, atomix::v1::StatusRequest(), &status);
    if (!s.ok()) {
      return absl::UnavailableError(absl::StrCat("Admin.Status of ", endpoint, ": ",
                                                 s.error_message()));
    }
    if (status.store() != store) {
      return absl::FailedPreconditionError(absl::StrCat(
          "broker ", endpoint, " runs the ", status.store(), " store, not ", store));
    }
  }
  return absl::OkStatus();
}

void PrintResult(const atomix::bench::Result& r, const std::string& workload,
                 const std::string& transport, const std::string& store, int callers,
                 int inflight, int value_bytes, int keys, bool json) {
  if (!r.first_error.empty()) {
    std::fprintf(stderr, "atomix-bench: %lld errors, first: %s\n",
                 static_cast<long long>(r.errors), r.first_error.c_str());
  }
  if (json) {
    std::printf(
        "{\"workload\": \"%s\", \"transport\": \"%s\", \"store\": \"%s\", "
        "\"callers\": %d, \"async\": %s, \"inflight\": %d, \"value_bytes\": %d, "
        "\"keys\": %d, \"duration_s\": %.3f, \"ops\": %lld, \"errors\": %lld, "
        "\"conflicts\": %lld, \"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, "
        "\"p999_us\": %.1f, \"max_us\": %.1f, \"ops_per_sec\": %.0f}\n",
        workload.c_str(), transport.c_str(), store.c_str(), callers,
        inflight > 0 ? "true" : "false", inflight, value_bytes, keys, r.seconds,
        static_cast<long long>(r.ops), static_cast<long long>(r.errors),
        static_cast<long long>(r.conflicts), r.p50_us, r.p90_us, r.p99_us, r.p999_us, r.max_us,
        r.ops_per_sec);
    return;
  }
  if (inflight > 0) {
    std::printf("workload %s, transport %s, async with %d in flight from one thread, %.1f s\n",
                workload.c_str(), transport.c_str(), inflight, r.seconds);
  } else {
    std::printf("workload %s, transport %s, %d callers, %.1f s\n", workload.c_str(),
                transport.c_str(), callers, r.seconds);
  }
  std::printf("ops %lld, errors %lld", static_cast<long long>(r.ops),
              static_cast<long long>(r.errors));
  if (r.conflicts > 0) std::printf(", conflicts %lld", static_cast<long long>(r.conflicts));
  std::printf("\nlatency p50 %.1f us, p90 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
              r.p50_us, r.p90_us, r.p99_us, r.p999_us, r.max_us);
  std::printf("ops/s %.0f\n", r.ops_per_sec);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"atomix-bench: load generator for atomix-broker"};
  std::string broker = "127.0.0.1:5679";
  std::string workload = "counter-increment";
  std::string transport = "stream";
  int callers = 1;
  double duration = 10;
  double warmup = 1;
  bool json = false;
  std::vector<int> ttls_ms = {1000, 2000, 5000};
  int repeat = 5;
  int poll_ms = 5;
  std::string lead;
  std::vector<std::string> names = atomix::bench::WorkloadNames();
  names.push_back(atomix::bench::kElectionFailover);
  names.push_back(atomix::bench::kWatchFanout);
  names.push_back(atomix::bench::kRedisFanout);
  names.push_back(atomix::bench::kEtcdGet);
  names.push_back(atomix::bench::kEtcdPut);
  names.push_back(atomix::bench::kLockHandoff);
  names.push_back(atomix::bench::kGrpcPingPong);
  std::string pingpong_server;
  bool async = false;
  int inflight = 1024;
  atomix::bench::WorkloadOptions wo;
  std::string store;
  int processes = 2;
  std::string handoff_child;
  int handoff_first = 0;
  std::string etcd;
  atomix::bench::FanoutOptions fanout;
  int watchers_per_client = 250;
  std::string redis = "127.0.0.1:6379";
  app.add_option("--broker", broker,
                 "host:port of the broker; host:port,... for brokers of one etcd "
                 "cluster, which the callers are spread over")->envname("ATOMIX_BROKER");
  app.add_option("--workload", workload, "workload name")->check(CLI::IsMember(names));
  app.add_option("--ttl-ms", ttls_ms, "election-failover: session TTLs in ms")
      ->delimiter(',')
      ->check(CLI::Range(1000, 3600000));
  app.add_option("--repeat", repeat, "election-failover: kills per TTL")
      ->check(CLI::Range(1, 1000));
  app.add_option("--poll-ms", poll_ms, "election-failover: GetTerm interval after the kill")
      ->check(CLI::Range(1, 1000));
  app.add_option("--watchers", fanout.watchers, "watch-fanout, redis-fanout: watchers")
      ->check(CLI::Range(1, 100000));
  app.add_option("--writers", fanout.writers,
                 "fan-out: closed-loop writers, each waiting until every watcher got its write")
      ->check(CLI::Range(1, 1024));
  app.add_option("--rate", fanout.rate, "fan-out: one open-loop writer at this many writes/s")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--consumers", fanout.consumers, "fan-out: threads that drain the watchers")
      ->check(CLI::Range(1, 256));
  app.add_option("--value-bytes", wo.value_bytes, "map and fan-out workloads: bytes per value")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--keys", wo.keys, "map workloads: keys, shared by all callers")
      ->check(CLI::Range(1, 100000000));
  app.add_flag("--async", async, "one thread keeps --inflight asynchronous calls in flight");
  app.add_option("--inflight", inflight, "with --async: calls kept in flight")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--store", store,
                 "fail unless every broker runs this store (memory, disk, etcd); "
                 "recorded in the JSON")
      ->check(CLI::IsMember({"memory", "disk", "etcd"}));
  app.add_option("--processes", processes, "lock-handoff: contender processes")
      ->check(CLI::Range(2, 64));
  // A contender process of lock-handoff (not for direct use).
  app.add_option("--handoff-child", handoff_child, "")->group("");
  app.add_option("--handoff-first", handoff_first, "")->group("");
  // The echo server of grpc-pingpong (not for direct use).
  app.add_option("--pingpong-server", pingpong_server, "")->group("");
  app.add_option("--watchers-per-client", watchers_per_client,
                 "watch-fanout: watchers per Client (each Client is one connection)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--redis", redis, "redis-fanout: IPV4:PORT of redis-server");
  app.add_option("--etcd", etcd, "etcd-put, etcd-get: host:port of etcd's client URL");
  // The leader child of election-failover (not for direct use).
  app.add_option("--lead", lead, "")->group("");
  app.add_option("--callers", callers, "concurrent calling threads")->check(CLI::Range(1, 4096));
  app.add_option("--duration", duration, "measured seconds")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "unmeasured seconds before measuring")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--transport", transport, "stream (coalescing) or unary (one RPC per call)")
      ->check(CLI::IsMember({"stream", "unary"}));
  app.add_flag("--json", json, "print one JSON object");
  CLI11_PARSE(app, argc, argv);

  atomix::ClientOptions options;
  options.endpoints = absl::StrSplit(broker, ',');
  wo.callers = callers;
  // The fan-out keeps its own default (64 bytes) unless --value-bytes is given.
  if (app.count("--value-bytes") > 0) fanout.value_bytes = wo.value_bytes;
  if (!pingpong_server.empty()) return atomix::bench::RunPingPongServer(pingpong_server);
  if (!handoff_child.empty()) {
    return atomix::bench::RunHandoffChild(options, handoff_child, handoff_first, callers);
  }
  if (!store.empty()) {
    absl::Status s = CheckStore(options.endpoints, store);
    if (!s.ok()) {
      std::fprintf(stderr, "atomix-bench: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  if (workload == atomix::bench::kLockHandoff) {
    atomix::bench::HandoffOptions h;
    h.callers = callers;
    h.processes = processes;
    h.warmup_s = warmup;
    h.duration_s = duration;
    auto r = atomix::bench::RunLockHandoff(broker, h);
    if (!r.ok()) {
      std::fprintf(stderr, "atomix-bench: %s\n", r.status().ToString().c_str());
      return 1;
    }
    PrintResult(*r, workload, transport, store, callers, 0, wo.value_bytes, wo.keys, json);
    return 0;
  }
  if (!lead.empty()) {
    return atomix::bench::RunLeader(options, lead, std::chrono::milliseconds(ttls_ms.front()));
  }
  if (workload == atomix::bench::kElectionFailover) {
    return RunFailover(options, ttls_ms, repeat, poll_ms, json);
  }
  if (workload == atomix::bench::kWatchFanout || workload == atomix::bench::kRedisFanout) {
    fanout.warmup_s = warmup;
    fanout.duration_s = duration;
    return RunFanout(workload, options, redis, fanout, watchers_per_client, json);
  }
  options.transport = transport == "unary" ? atomix::ClientOptions::Transport::kUnary
                                           : atomix::ClientOptions::Transport::kStream;
  absl::StatusOr<std::unique_ptr<atomix::bench::Workload>> work;
  if (workload == atomix::bench::kGrpcPingPong) {
    work = atomix::bench::MakeGrpcPingPong(callers);
  } else if (workload == atomix::bench::kEtcdPut || workload == atomix::bench::kEtcdGet) {
    if (etcd.empty()) {
      std::fprintf(stderr, "atomix-bench: %s needs --etcd host:port\n", workload.c_str());
      return 2;
    }
    if (workload == atomix::bench::kEtcdPut) {
      work = atomix::bench::MakeEtcdPut(etcd);
    } else {
      work = atomix::bench::MakeEtcdGet(etcd, wo.value_bytes);
    }
  } else {
    // One shared Client; with several brokers, one per broker (each
    // listing the others after its own), callers spread over them.
    std::vector<atomix::Client> clients;
    const std::vector<std::string> brokers = options.endpoints;
    for (size_t b = 0; b < brokers.size(); ++b) {
      atomix::ClientOptions o = options;
      std::rotate_copy(brokers.begin(), brokers.begin() + static_cast<std::ptrdiff_t>(b),
                       brokers.end(), o.endpoints.begin());
      auto client = atomix::Client::Connect(o);
      if (!client.ok()) {
        std::fprintf(stderr, "atomix-bench: %s\n", client.status().ToString().c_str());
        return 1;
      }
      clients.push_back(*client);
    }
    work = atomix::bench::MakeWorkload(workload, clients, wo);
  }
  if (!work.ok()) {
    std::fprintf(stderr, "atomix-bench: %s\n", work.status().ToString().c_str());
    return 1;
  }
  auto* async_work = dynamic_cast<atomix::bench::AsyncWorkload*>(work->get());
  if (async && async_work == nullptr) {
    std::fprintf(stderr, "atomix-bench: workload %s has no --async form\n", workload.c_str());
    return 2;
  }
  atomix::bench::Result r = async
                                ? atomix::bench::RunAsync(*async_work, inflight, warmup, duration)
                                : atomix::bench::Run(**work, callers, warmup, duration);
  PrintResult(r, workload, transport, store, callers, async ? inflight : 0, wo.value_bytes,
              wo.keys, json);
  return r.errors == 0 ? 0 : 2;
}
