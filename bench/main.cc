// atomix-bench: load generator for a running atomix-broker.
//
//   atomix-bench --broker 127.0.0.1:5679 --workload counter-increment \
//                --callers 64 --duration 10 [--transport stream|unary] [--json]
//
// Every caller is a thread issuing one synchronous call after another through
// one shared Client, which is how an application with many threads uses the
// SDK. Prints ops/s and p50/p99 latency; ops/s is on the last line (in JSON
// mode the last line is one JSON object ending with "ops_per_sec").
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "atomix/atomix.h"
#include "bench/workloads.h"

int main(int argc, char** argv) {
  CLI::App app{"atomix-bench: load generator for atomix-broker"};
  std::string broker = "127.0.0.1:5679";
  std::string workload = "counter-increment";
  std::string transport = "stream";
  int callers = 1;
  double duration = 10;
  double warmup = 1;
  bool json = false;
  app.add_option("--broker", broker, "host:port of the broker")->envname("ATOMIX_BROKER");
  app.add_option("--workload", workload, "workload name")
      ->check(CLI::IsMember(atomix::bench::WorkloadNames()));
  app.add_option("--callers", callers, "concurrent calling threads")->check(CLI::Range(1, 4096));
  app.add_option("--duration", duration, "measured seconds")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "unmeasured seconds before measuring")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--transport", transport, "stream (coalescing) or unary (one RPC per call)")
      ->check(CLI::IsMember({"stream", "unary"}));
  app.add_flag("--json", json, "print one JSON object");
  CLI11_PARSE(app, argc, argv);

  atomix::ClientOptions options;
  options.endpoints = {broker};
  options.transport = transport == "unary" ? atomix::ClientOptions::Transport::kUnary
                                           : atomix::ClientOptions::Transport::kStream;
  auto client = atomix::Client::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "atomix-bench: %s\n", client.status().ToString().c_str());
    return 1;
  }
  auto work = atomix::bench::MakeWorkload(workload, *client, callers);
  if (!work.ok()) {
    std::fprintf(stderr, "atomix-bench: %s\n", work.status().ToString().c_str());
    return 1;
  }
  atomix::bench::Result r = atomix::bench::Run(**work, callers, warmup, duration);
  if (!r.first_error.empty()) {
    std::fprintf(stderr, "atomix-bench: %lld errors, first: %s\n",
                 static_cast<long long>(r.errors), r.first_error.c_str());
  }
  if (json) {
    std::printf(
        "{\"workload\": \"%s\", \"transport\": \"%s\", \"callers\": %d, \"duration_s\": %.3f, "
        "\"ops\": %lld, \"errors\": %lld, \"p50_us\": %.1f, \"p99_us\": %.1f, "
        "\"ops_per_sec\": %.0f}\n",
        workload.c_str(), transport.c_str(), callers, r.seconds, static_cast<long long>(r.ops),
        static_cast<long long>(r.errors), r.p50_us, r.p99_us, r.ops_per_sec);
  } else {
    std::printf("workload %s, transport %s, %d callers, %.1f s\n", workload.c_str(),
                transport.c_str(), callers, r.seconds);
    std::printf("ops %lld, errors %lld\n", static_cast<long long>(r.ops),
                static_cast<long long>(r.errors));
    std::printf("latency p50 %.1f us, p99 %.1f us\n", r.p50_us, r.p99_us);
    std::printf("ops/s %.0f\n", r.ops_per_sec);
  }
  return r.errors == 0 ? 0 : 2;
}
