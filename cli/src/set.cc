// atomix set add|remove|contains|list NAME [ELEMENT]
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "atomix/set.h"
#include "cli/src/context.h"
#include "cli/src/exit_codes.h"

namespace atomix::cli {
namespace {

struct SetArgs {
  std::string name;
  std::string element;
};

enum class Op { kAdd, kRemove, kContains, kList };

int Run(const Context& ctx, Op op, const SetArgs& a) {
  auto client = ctx.Connect();
  if (!client.ok()) return ctx.Fail("connect", client.status());
  auto set = GetSet<std::string>(*client, a.name, ctx.Call());
  if (!set.ok()) return ctx.Fail(absl::StrCat("set ", a.name), set.status());
  switch (op) {
    case Op::kAdd:
    case Op::kRemove: {
      auto r = op == Op::kAdd ? set->Add(a.element, ctx.Call()) : set->Remove(a.element, ctx.Call());
      if (!r.ok()) {
        return ctx.Fail(absl::StrCat("set ", op == Op::kAdd ? "add " : "remove ", a.name),
                        r.status());
      }
      PrintSingleRow(ctx.format, {{"element", Field::Str(a.element)},
                                  {"changed", Field::Bool(r->changed)},
                                  {"version", Field::Int(r->version)}});
      return kExitOk;
    }
    case Op::kContains: {
      auto r = set->Contains(a.element, ctx.Call());
      if (!r.ok()) return ctx.Fail(absl::StrCat("set contains ", a.name), r.status());
      PrintSingleRow(ctx.format,
                     {{"element", Field::Str(a.element)}, {"present", Field::Bool(*r)}});
      return kExitOk;
    }
    case Op::kList: {
      ListOptions o = ctx.Call();
      Printer out(ctx.format);
      for (const auto& e : set->Elements(o)) {
        if (!e.ok()) {
          out.Flush();
          return ctx.Fail(absl::StrCat("set list ", a.name), e.status());
        }
        out.Add({{"element", Field::Str(e->value)}, {"version", Field::Int(e->version)}});
      }
      out.Flush();
      return kExitOk;
    }
  }
  return kExitFailed;
}

}  // namespace

void AddSetCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("set", "a sorted set of strings: add, remove, contains, list");
  group->require_subcommand(1);
  auto a = std::make_shared<SetArgs>();
  auto on_run = [&ctx, a](CLI::App* sub, Op op, bool element) {
    sub->add_option("name", a->name, "the set's name")->required();
    if (element) sub->add_option("element", a->element, "the element")->required();
    sub->callback([&ctx, a, op] { ctx.run = [&ctx, a, op] { return Run(ctx, op, *a); }; });
  };
  on_run(group->add_subcommand(
             "add", "add ELEMENT; CHANGED is false (and VERSION its version) if present"),
         Op::kAdd, true);
  on_run(group->add_subcommand(
             "remove", "remove ELEMENT; CHANGED is false (and VERSION 0) if absent"),
         Op::kRemove, true);
  on_run(group->add_subcommand("contains", "whether ELEMENT is in the set"), Op::kContains, true);
  on_run(group->add_subcommand("list", "print the elements in order with their versions"),
         Op::kList, false);
}

}  // namespace atomix::cli
