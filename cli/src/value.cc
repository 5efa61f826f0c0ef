// atomix value get|set NAME ...
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "atomix/status.h"
#include "atomix/value.h"
#include "cli/src/context.h"
#include "cli/src/exit_codes.h"

namespace atomix::cli {
namespace {

struct ValueArgs {
  std::string name;
  std::string value;
  std::optional<int64_t> if_version;
};

int Get(const Context& ctx, const ValueArgs& a) {
  auto client = ctx.Connect();
  if (!client.ok()) return ctx.Fail("connect", client.status());
  auto value = GetValue<std::string>(*client, a.name, ctx.Call());
  if (!value.ok()) return ctx.Fail(absl::StrCat("value ", a.name), value.status());
  auto v = value->Get(ctx.Call());
  if (!v.ok()) return ctx.Fail(absl::StrCat("value get ", a.name), v.status());
  if (!v->has_value()) return Report(kExitFailed, absl::StrCat("value get ", a.name, ": not set"));
  PrintSingleRow(ctx.format, {{"name", Field::Str(a.name)},
                              {"value", Field::Str((*v)->value)},
                              {"version", Field::Int((*v)->version)}});
  return kExitOk;
}

int Set(const Context& ctx, const ValueArgs& a) {
  auto client = ctx.Connect();
  if (!client.ok()) return ctx.Fail("connect", client.status());
  auto value = GetValue<std::string>(*client, a.name, ctx.Call());
  if (!value.ok()) return ctx.Fail(absl::StrCat("value ", a.name), value.status());
  WriteOptions w = ctx.Call();
  w.if_version = a.if_version;
  auto r = value->Set(a.value, w);
  if (!r.ok()) {
    if (a.if_version && absl::IsFailedPrecondition(r.status()) && CurrentVersion(r.status())) {
      return Report(kExitFailed, absl::StrCat("value set ", a.name, ": its version is ",
                                              *CurrentVersion(r.status()), ", not ",
                                              *a.if_version, "; left unchanged"));
    }
    return ctx.Fail(absl::StrCat("value set ", a.name), r.status());
  }
  PrintSingleRow(ctx.format, {{"name", Field::Str(a.name)}, {"revision", Field::Int(*r)}});
  return kExitOk;
}

}  // namespace

void AddValueCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("value", "a single versioned string value: get, set");
  group->require_subcommand(1);
  auto a = std::make_shared<ValueArgs>();

  CLI::App* get = group->add_subcommand("get", "print the value and its version (exit 1 if not set)");
  get->add_option("name", a->name, "the value's name")->required();
  get->callback([&ctx, a] { ctx.run = [&ctx, a] { return Get(ctx, *a); }; });

  CLI::App* set = group->add_subcommand("set", "set the value; prints the revision of the write");
  set->add_option("name", a->name, "the value's name")->required();
  set->add_option("value", a->value, "the new value")->required();
  set->add_option("--if-version", a->if_version,
                  "only if the value's current version is this (exit 1 otherwise)");
  set->callback([&ctx, a] { ctx.run = [&ctx, a] { return Set(ctx, *a); }; });
}

}  // namespace atomix::cli
