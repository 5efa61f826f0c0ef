// atomix counter get|set|inc|dec|cas NAME ...
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "atomix/counter.h"
#include "atomix/status.h"
#include "cli/src/context.h"
#include "cli/src/exit_codes.h"

namespace atomix::cli {
namespace {

struct CounterArgs {
  std::string name;
  int64_t value = 0;   // set
  int64_t delta = 1;   // inc, dec
  int64_t expect = 0;  // cas
  int64_t update = 0;  // cas
};

enum class Op { kGet, kSet, kInc, kDec, kCas };

int Run(const Context& ctx, Op op, const CounterArgs& a) {
  auto client = ctx.Connect();
  if (!client.ok()) return ctx.Fail("connect", client.status());
  auto counter = GetCounter(*client, a.name, ctx.Call());
  if (!counter.ok()) return ctx.Fail(absl::StrCat("counter ", a.name), counter.status());
  if (op == Op::kGet) {
    auto v = counter->Get(ctx.Call());
    if (!v.ok()) return ctx.Fail(absl::StrCat("counter get ", a.name), v.status());
    PrintSingleRow(ctx.format, {{"name", Field::Str(a.name)}, {"value", Field::Int(*v)}});
    return kExitOk;
  }
  absl::StatusOr<Versioned<int64_t>> r;
  switch (op) {
    case Op::kSet: r = counter->Set(a.value, ctx.Call()); break;
    case Op::kInc: r = counter->Increment(a.delta, ctx.Call()); break;
    case Op::kDec: r = counter->Decrement(a.delta, ctx.Call()); break;
    default: r = counter->CompareAndSet(a.expect, a.update, ctx.Call()); break;
  }
  if (!r.ok()) {
    if (op == Op::kCas && absl::IsFailedPrecondition(r.status())) {
      if (auto now = CurrentVersion(r.status())) {
        return Report(kExitFailed, absl::StrCat("counter cas ", a.name, ": it holds ", *now,
                                                ", not ", a.expect, "; left unchanged"));
      }
    }
    return ctx.Fail(absl::StrCat("counter ", a.name), r.status());
  }
  PrintSingleRow(ctx.format, {{"name", Field::Str(a.name)},
                              {"value", Field::Int(r->value)},
                              {"revision", Field::Int(r->version)}});
  return kExitOk;
}

}  // namespace

void AddCounterCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("counter", "a 64-bit counter: get, set, inc, dec, cas");
  group->require_subcommand(1);
  auto a = std::make_shared<CounterArgs>();
  auto on_run = [&ctx, a](CLI::App* sub, Op op) {
    sub->add_option("name", a->name, "the counter's name")->required();
    sub->callback([&ctx, a, op] { ctx.run = [&ctx, a, op] { return Run(ctx, op, *a); }; });
  };

  on_run(group->add_subcommand("get", "print the counter's value"), Op::kGet);

  CLI::App* set = group->add_subcommand("set", "set the value; prints it with its revision");
  on_run(set, Op::kSet);
  set->add_option("value", a->value, "the new value")->required();

  CLI::App* inc = group->add_subcommand("inc", "add DELTA (default 1); prints the new value");
  on_run(inc, Op::kInc);
  inc->add_option("delta", a->delta, "how much to add (default 1)");

  CLI::App* dec = group->add_subcommand("dec", "subtract DELTA (default 1); prints the new value");
  on_run(dec, Op::kDec);
  dec->add_option("delta", a->delta, "how much to subtract (default 1)");

  CLI::App* cas = group->add_subcommand(
      "cas", "set UPDATE only if the counter holds EXPECT (exit 1 and no change otherwise)");
  on_run(cas, Op::kCas);
  cas->add_option("expect", a->expect, "the value the counter must hold")->required();
  cas->add_option("update", a->update, "the value to set")->required();
}

}  // namespace atomix::cli
