// atomix map get|put|remove|list|watch NAME [KEY] ...
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "atomix/map.h"
#include "atomix/status.h"
#include "cli/src/context.h"
#include "cli/src/exit_codes.h"
#include "cli/src/watch.h"

namespace atomix::cli {
namespace {

using StringMap = Map<std::string, std::string>;

struct MapArgs {
  std::string name;
  std::string key;
  std::string value;
  std::string prefix;
  std::optional<int64_t> if_version;
  std::optional<int64_t> from;
  std::optional<std::string> watch_key;
};

enum class Op { kGet, kPut, kRemove, kList };

int Run(const Context& ctx, Op op, const MapArgs& a) {
  auto client = ctx.Connect();
  if (!client.ok()) return ctx.Fail("connect", client.status());
  auto map = GetMap<std::string, std::string>(*client, a.name, ctx.Call());
  if (!map.ok()) return ctx.Fail(absl::StrCat("map ", a.name), map.status());
  switch (op) {
    case Op::kGet: {
      auto v = map->Get(a.key, ctx.Call());
      if (!v.ok()) return ctx.Fail(absl::StrCat("map get ", a.name), v.status());
      if (!v->has_value()) {
        return Report(kExitFailed, absl::StrCat("map get ", a.name, ": no key '", a.key, "'"));
      }
      PrintSingleRow(ctx.format, {{"key", Field::Str(a.key)},
                                  {"value", Field::Str((*v)->value)},
                                  {"version", Field::Int((*v)->version)}});
      return kExitOk;
    }
    case Op::kPut:
    case Op::kRemove: {
      WriteOptions w = ctx.Call();
      w.if_version = a.if_version;
      auto r = op == Op::kPut ? map->Put(a.key, a.value, w) : map->Remove(a.key, w);
      const char* verb = op == Op::kPut ? "put" : "remove";
      if (!r.ok()) {
        if (absl::IsNotFound(r.status())) {
          return Report(kExitFailed,
                        absl::StrCat("map ", verb, " ", a.name, ": no key '", a.key, "'"));
        }
        if (a.if_version && absl::IsFailedPrecondition(r.status()) &&
            CurrentVersion(r.status())) {
          return Report(kExitFailed, absl::StrCat("map ", verb, " ", a.name, ": key '", a.key,
                                                  "' has version ", *CurrentVersion(r.status()),
                                                  ", not ", *a.if_version, "; left unchanged"));
        }
        return ctx.Fail(absl::StrCat("map ", verb, " ", a.name), r.status());
      }
      PrintSingleRow(ctx.format, {{"key", Field::Str(a.key)}, {"revision", Field::Int(*r)}});
      return kExitOk;
    }
    case Op::kList: {
      ListOptions o = ctx.Call();
      o.prefix = a.prefix;
      Printer out(ctx.format);
      for (const auto& e : map->Entries(o)) {
        if (!e.ok()) {
          out.Flush();
          return ctx.Fail(absl::StrCat("map list ", a.name), e.status());
        }
        out.Add({{"key", Field::Str(e->key)},
                 {"value", Field::Str(e->value)},
                 {"version", Field::Int(e->version)}});
      }
      out.Flush();
      return kExitOk;
    }
  }
  return kExitFailed;
}

}  // namespace

void AddMapCommands(CLI::App& app, Context& ctx) {
  CLI::App* group =
      app.add_subcommand("map", "a sorted map of string keys to values: get, put, remove, list, watch");
  group->require_subcommand(1);
  auto a = std::make_shared<MapArgs>();
  auto on_run = [&ctx, a](CLI::App* sub, Op op) {
    sub->add_option("name", a->name, "the map's name")->required();
    sub->callback([&ctx, a, op] { ctx.run = [&ctx, a, op] { return Run(ctx, op, *a); }; });
  };

  CLI::App* get = group->add_subcommand("get", "print KEY's value and version (exit 1 if absent)");
  on_run(get, Op::kGet);
  get->add_option("key", a->key, "the key")->required();

  CLI::App* put = group->add_subcommand("put", "set KEY to VALUE; prints the revision");
  on_run(put, Op::kPut);
  put->add_option("key", a->key, "the key")->required();
  put->add_option("value", a->value, "the value")->required();
  put->add_option("--if-version", a->if_version,
                  "only if KEY's current version is this (exit 1 otherwise)");

  CLI::App* remove =
      group->add_subcommand("remove", "remove KEY; prints the revision (exit 1 if absent)");
  on_run(remove, Op::kRemove);
  remove->add_option("key", a->key, "the key")->required();
  remove->add_option("--if-version", a->if_version,
                     "only if KEY's current version is this (exit 1 otherwise)");

  CLI::App* list = group->add_subcommand("list", "print the entries in key order");
  on_run(list, Op::kList);
  list->add_option("--prefix", a->prefix, "only keys that start with this");

  CLI::App* watch = group->add_subcommand(
      "watch", "print every change (of KEY, or of keys under --prefix) until Ctrl-C");
  watch->add_option("name", a->name, "the map's name")->required();
  watch->add_option("key", a->watch_key, "only this key");
  watch->add_option("--prefix", a->prefix, "only keys that start with this");
  watch->add_option("--from", a->from,
                    "start with every change at this revision or later");
  watch->callback([&ctx, a] {
    if (a->watch_key.has_value() && !a->prefix.empty()) {
      throw CLI::ValidationError("--prefix", "give KEY or --prefix, not both");
    }
    ctx.run = [&ctx, a] {
      WatchArgs w;
      w.kind = "map";
      w.name = a->name;
      w.key = a->watch_key;
      w.prefix = a->prefix;
      w.from = a->from;
      return RunWatch(ctx, w);
    };
  });
}

}  // namespace atomix::cli
