// atomix watch KIND NAME [--from REV] [--prefix P]: print events in revision
// order until Ctrl-C.
#include "cli/src/watch.h"

#include <signal.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atomix/counter.h"
#include "atomix/election.h"
#include "atomix/lock.h"
#include "atomix/map.h"
#include "atomix/set.h"
#include "atomix/value.h"
#include "cli/src/exit_codes.h"
#include "cli/src/signals.h"

namespace atomix::cli {
namespace {

const char* TypeName(EventType t) {
  switch (t) {
    case EventType::kInserted: return "inserted";
    case EventType::kUpdated: return "updated";
    case EventType::kRemoved: return "removed";
    case EventType::kExpired: return "expired";
    case EventType::kResync: return "resync";
  }
  return "unknown";
}

template <class T>
Field Opt(const std::optional<Versioned<T>>& v) {
  return v.has_value() ? Field::Str(v->value) : Field::Null();
}

std::vector<Record> Rows(const CounterEvent& e) {
  const bool has_previous = e.type == EventType::kUpdated;
  return {{{"revision", Field::Int(e.revision)},
           {"type", Field::Str(TypeName(e.type))},
           {"value", Field::Int(e.value)},
           {"previous", has_previous ? Field::Int(e.previous) : Field::Null()}}};
}

std::vector<Record> Rows(const ValueEvent<std::string>& e) {
  return {{{"revision", Field::Int(e.revision)},
           {"type", Field::Str(TypeName(e.type))},
           {"value", Opt(e.value)},
           {"previous", Opt(e.previous)}}};
}

Record MapRow(Version revision, EventType type, Field key, Field value, Field previous) {
  return {{"revision", Field::Int(revision)},
          {"type", Field::Str(TypeName(type))},
          {"key", std::move(key)},
          {"value", std::move(value)},
          {"previous", std::move(previous)}};
}

std::vector<Record> Rows(const MapEvent<std::string, std::string>& e) {
  if (e.type == EventType::kResync) {
    std::vector<Record> rows;
    for (const auto& entry : e.snapshot) {
      rows.push_back(MapRow(e.revision, e.type, Field::Str(entry.key), Field::Str(entry.value),
                            Field::Null()));
    }
    if (rows.empty()) {
      rows.push_back(MapRow(e.revision, e.type, Field::Null(), Field::Null(), Field::Null()));
    }
    return rows;
  }
  const auto& named = e.entry.has_value() ? e.entry : e.previous;
  return {MapRow(e.revision, e.type, named ? Field::Str(named->key) : Field::Null(),
                 e.entry ? Field::Str(e.entry->value) : Field::Null(),
                 e.previous ? Field::Str(e.previous->value) : Field::Null())};
}

std::vector<Record> Rows(const SetEvent<std::string>& e) {
  auto row = [&](Field element) {
    return Record{{"revision", Field::Int(e.revision)},
                  {"type", Field::Str(TypeName(e.type))},
                  {"element", std::move(element)}};
  };
  if (e.type == EventType::kResync) {
    std::vector<Record> rows;
    for (const auto& element : e.snapshot) rows.push_back(row(Field::Str(element.value)));
    if (rows.empty()) rows.push_back(row(Field::Null()));
    return rows;
  }
  return {row(Opt(e.element.has_value() ? e.element : e.previous))};
}

std::vector<Record> Rows(const LockEvent& e) {
  return {{{"revision", Field::Int(e.revision)},
           {"type", Field::Str(TypeName(e.type))},
           {"fence", Field::Int(e.fence)},
           {"session", Field::Id(e.session_id)}}};
}

std::vector<Record> Rows(const Term& t) {
  return {{{"term", Field::Int(t.term)},
           {"leader", t.leader.empty() ? Field::Null() : Field::Str(t.leader)},
           {"candidates", Field::Strings(t.candidates)}}};
}

// Prints the channel's events until SIGINT/SIGTERM or its end.
template <class E, class Conv>
int Stream(const Context& ctx, const std::string& what, absl::StatusOr<Channel<E>> channel,
           Conv conv) {
  if (!channel.ok()) return ctx.Fail(what, channel.status());
  Printer out(ctx.format, /*streaming=*/true);
  std::atomic<bool> ended{false};
  std::thread reader([&] {
    for (auto&& e : *channel) {
      for (Record& r : conv(e)) out.Add(std::move(r));
    }
    ended = true;
    Wake();
  });
  for (;;) {
    const int sig = WaitSignal(std::nullopt);
    if (sig == SIGINT || sig == SIGTERM || ended) break;
  }
  channel->Close();
  reader.join();
  if (ended && !channel->status().ok()) return ctx.Fail(what, channel->status());
  return kExitOk;
}

}  // namespace

int RunWatch(const Context& ctx, const WatchArgs& a) {
  BlockSignals();  // before the client starts its threads
  auto client = ctx.Connect();
  if (!client.ok()) return ctx.Fail("connect", client.status());
  WatchOptions o = ctx.Call();
  if (a.from.has_value()) o.start_version = *a.from;
  o.prefix = a.prefix;
  const std::string what = absl::StrCat("watch ", a.kind, " ", a.name);
  auto rows = [](const auto& e) { return Rows(e); };
  if (a.kind == "counter") {
    auto p = GetCounter(*client, a.name, ctx.Call());
    if (!p.ok()) return ctx.Fail(what, p.status());
    return Stream(ctx, what, p->Watch(o), rows);
  }
  if (a.kind == "value") {
    auto p = GetValue<std::string>(*client, a.name, ctx.Call());
    if (!p.ok()) return ctx.Fail(what, p.status());
    return Stream(ctx, what, p->Watch(o), rows);
  }
  if (a.kind == "map") {
    auto p = GetMap<std::string, std::string>(*client, a.name, ctx.Call());
    if (!p.ok()) return ctx.Fail(what, p.status());
    return Stream(ctx, what, a.key ? p->Watch(*a.key, o) : p->Watch(o), rows);
  }
  if (a.kind == "set") {
    auto p = GetSet<std::string>(*client, a.name, ctx.Call());
    if (!p.ok()) return ctx.Fail(what, p.status());
    return Stream(ctx, what, p->Watch(o), rows);
  }
  if (a.kind == "lock") {
    auto p = GetLock(*client, a.name, ctx.Call());
    if (!p.ok()) return ctx.Fail(what, p.status());
    return Stream(ctx, what, p->Watch(o), rows);
  }
  auto p = GetElection(*client, a.name, ctx.Call());
  if (!p.ok()) return ctx.Fail(what, p.status());
  if (!a.leaders_only) return Stream(ctx, what, p->Watch(o), rows);
  o.replay = true;
  auto last = std::make_shared<std::optional<std::pair<std::string, Version>>>();
  return Stream(ctx, what, p->Watch(o), [last](const Term& t) {
    std::pair<std::string, Version> now{t.leader, t.term};
    if (*last == now) return std::vector<Record>();
    *last = now;
    return Rows(t);
  });
}

void AddWatchCommand(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<WatchArgs>();
  CLI::App* watch = app.add_subcommand(
      "watch", "print a primitive's changes in revision order until Ctrl-C (exit 0)");
  watch->add_option("kind", a->kind, absl::StrCat("what NAME is: ", kWatchKinds))
      ->required()
      ->check(CLI::IsMember({"counter", "value", "map", "set", "lock", "election"}));
  watch->add_option("name", a->name, "the primitive's name")->required();
  watch->add_option("--from", a->from, "start with every change at this revision or later");
  watch->add_option("--prefix", a->prefix, "map: only keys that start with this");
  watch->callback([&ctx, a] {
    if (!a->prefix.empty() && a->kind != "map") {
      throw CLI::ValidationError("--prefix", "only a map watch takes a prefix");
    }
    ctx.run = [&ctx, a] { return RunWatch(ctx, *a); };
  });
}

}  // namespace atomix::cli
