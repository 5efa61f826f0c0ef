#include "bench/watch_fanout.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atomix/atomix.h"

namespace atomix::bench {
namespace {

using StringMap = Map<std::string, std::string>;
using Event = MapEvent<std::string, std::string>;

struct Watch {
  Channel<Event> channel;
  FanoutRun::Watcher state;
};

void Handle(FanoutRun& run, Watch& w, Histogram& latency, const Event& e) {
  if ((e.type != EventType::kInserted && e.type != EventType::kUpdated) || !e.entry.has_value()) {
    FanoutRun::Fail(w.state, absl::StrCat("unexpected event of type ", static_cast<int>(e.type),
                                          " at revision ", e.revision));
    return;
  }
  run.Deliver(w.state, latency, e.entry->value, e.revision, SteadyNowNs());
}

void Consume(FanoutRun& run, std::vector<Watch*> mine, Histogram& latency,
             const std::atomic<bool>& done) {
  size_t next_block = 0;
  while (!done.load(std::memory_order_relaxed)) {
    bool any = false;
    for (Watch* w : mine) {
      while (std::optional<Event> e = w->channel.TryReceive()) {
        Handle(run, *w, latency, *e);
        any = true;
      }
    }
    if (any) continue;
    Watch* w = mine[next_block++ % mine.size()];
    if (std::optional<Event> e = w->channel.Receive(std::chrono::milliseconds(1))) {
      Handle(run, *w, latency, *e);
    }
  }
}

}  // namespace

absl::StatusOr<FanoutResult> RunWatchFanout(const ClientOptions& client_options,
                                            const FanoutOptions& options, int watchers_per_client) {
  const std::string name = absl::StrCat("bench-fanout-", getpid(), "-", SteadyNowNs());
  auto writer_client = Client::Connect(client_options);
  if (!writer_client.ok()) return writer_client.status();
  auto writer_map = GetMap<std::string, std::string>(*writer_client, name);
  if (!writer_map.ok()) return writer_map.status();

  const int n = options.watchers;
  const int per_client = std::max(1, watchers_per_client);
  const int client_count = (n + per_client - 1) / per_client;
  std::vector<Client> clients;
  std::vector<StringMap> maps;
  for (int i = 0; i < client_count; ++i) {
    auto c = Client::Connect(client_options);
    if (!c.ok()) return c.status();
    auto m = GetMap<std::string, std::string>(*c, name);
    if (!m.ok()) return m.status();
    clients.push_back(*std::move(c));
    maps.push_back(*std::move(m));
  }

  FanoutRun run(options);
  std::vector<Watch> watches;
  watches.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto ch = maps[static_cast<size_t>(i % client_count)].Watch();
    if (!ch.ok()) return ch.status();
    watches.push_back(Watch{*std::move(ch), run.NewWatcher()});
  }

  const int consumers = std::clamp(options.consumers, 1, n);
  std::vector<Histogram> latencies(static_cast<size_t>(consumers));
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < consumers; ++c) {
    std::vector<Watch*> mine;
    for (int i = c; i < n; i += consumers) mine.push_back(&watches[static_cast<size_t>(i)]);
    threads.emplace_back(Consume, std::ref(run), std::move(mine),
                         std::ref(latencies[static_cast<size_t>(c)]), std::cref(done));
  }

  std::vector<std::string> keys;
  for (int w = 0; w < run.writers(); ++w) keys.push_back(absl::StrCat("w", w));
  absl::Status driven = run.Drive([&](int writer, const std::string& payload) {
    auto revision = writer_map->Put(keys[static_cast<size_t>(writer)], payload);
    if (!revision.ok()) return absl::StatusOr<int64_t>(revision.status());
    return absl::StatusOr<int64_t>(static_cast<int64_t>(*revision));
  });
  done = true;
  for (auto& t : threads) t.join();
  if (!driven.ok()) return driven;

  std::vector<const FanoutRun::Watcher*> states;
  for (Watch& w : watches) {
    if (w.channel.closed()) {
      FanoutRun::Fail(w.state, absl::StrCat("channel closed: ", w.channel.status().ToString()));
    }
    states.push_back(&w.state);
  }
  std::vector<const Histogram*> hists;
  for (const Histogram& h : latencies) hists.push_back(&h);
  FanoutResult result = run.Finish(states, hists);
  for (Watch& w : watches) w.channel.Close();
  return result;
}

}  // namespace atomix::bench
