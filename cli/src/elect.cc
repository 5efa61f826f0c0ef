// atomix elect NAME CANDIDATE -- CMD ARGS...: campaign, run CMD while
// leader (term in ATOMIX_TERM), stop it when leadership is lost.
// atomix elect --observe NAME: print leader changes until Ctrl-C.
#include <signal.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "atomix/election.h"
#include "cli/src/command.h"
#include "cli/src/context.h"
#include "cli/src/exit_codes.h"
#include "cli/src/signals.h"
#include "cli/src/watch.h"

namespace atomix::cli {
namespace {

struct ElectArgs {
  std::string name;
  std::string candidate;
  std::vector<std::string> command;
  bool observe = false;
  std::string ttl = "10s";
  std::string grace = "10s";
};

// The latest term seen by the election's watch, written by its reader
// thread and read by the main thread.
class TermView {
 public:
  void Set(Term t) {
    absl::MutexLock l(&mu_);
    term_ = std::move(t);
  }
  std::optional<Term> Get() const {
    absl::MutexLock l(&mu_);
    return term_;
  }

 private:
  mutable absl::Mutex mu_;
  std::optional<Term> term_ ABSL_GUARDED_BY(mu_);
};

int Run(const Context& ctx, const ElectArgs& a) {
  const auto ttl = *ParseDuration(a.ttl);
  const auto grace = *ParseDuration(a.grace);
  BlockSignals();  // before the client starts its threads
  auto client = ctx.Connect(ttl);
  if (!client.ok()) return ctx.Fail("connect", client.status());
  ElectionOptions eo = WithCandidateID(a.candidate);
  eo.timeout = ctx.timeout;
  auto election = GetElection(*client, a.name, eo);
  const std::string what = absl::StrCat("elect ", a.name);
  if (!election.ok()) return ctx.Fail(what, election.status());

  WatchOptions wo;
  wo.replay = true;
  wo.timeout = ctx.timeout;
  auto terms = election->Watch(wo);
  if (!terms.ok()) return ctx.Fail(what, terms.status());
  TermView latest;
  std::atomic<bool> ended{false};
  std::thread reader([&, channel = *terms]() mutable {
    for (Term& t : channel) {
      latest.Set(std::move(t));
      Wake();
    }
    ended = true;
    Wake();
  });
  std::atomic<bool> session_lost{false};
  std::stop_callback on_session_lost(client->session().Done(), [&session_lost] {
    session_lost = true;
    Wake();
  });
  auto finish = [&](int code) {
    terms->Close();
    reader.join();
    const auto leave_timeout =
        code == kExitLost ? std::chrono::milliseconds(200) : ctx.timeout;
    election->Leave(WithTimeout(leave_timeout)).IgnoreError();
    return code;
  };

  auto entered = election->Enter(ctx.Call());
  if (!entered.ok()) {
    const int code = ctx.Fail(what, entered.status());
    terms->Close();
    reader.join();
    return code;
  }
  // Campaign until this candidate leads.
  Version term = 0;
  for (;;) {
    if (auto t = latest.Get(); t && t->leader == a.candidate) {
      term = t->term;
      break;
    }
    if (session_lost) {
      Report(kExitLost, absl::StrCat(what, ": the session was lost while campaigning"));
      return finish(kExitLost);
    }
    if (ended) return finish(ctx.Fail(what, terms->status().ok()
                                                ? absl::UnavailableError("the watch ended")
                                                : terms->status()));
    const int sig = WaitSignal(std::nullopt);
    if (sig == SIGINT || sig == SIGTERM) return finish(128 + sig);
  }

  auto child = StartCommand(a.command, {absl::StrCat("ATOMIX_TERM=", term),
                                        absl::StrCat("ATOMIX_ELECTION=", a.name),
                                        absl::StrCat("ATOMIX_CANDIDATE=", a.candidate)});
  if (!child.ok()) return finish(Report(kExitCannotRun, std::string(child.status().message())));
  const int code = Supervise(
      *child,
      [&] {
        if (session_lost || ended) return true;
        auto t = latest.Get();
        return !t || t->leader != a.candidate || t->term != term;
      },
      grace);
  if (code == kExitLost) {
    Report(kExitLost, absl::StrCat(what, ": leadership of term ", term,
                                   " was lost while the command ran; the command was stopped"));
  }
  return finish(code);
}

}  // namespace

void AddElectCommand(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ElectArgs>();
  CLI::App* elect = app.add_subcommand(
      "elect",
      "campaign as CANDIDATE and run CMD while leader (term in ATOMIX_TERM); or --observe");
  elect->add_option("name", a->name, "the election's name")->required();
  elect->add_option("candidate", a->candidate, "this candidate's id");
  elect->add_option("command", a->command, "the command to run while leader, after --");
  elect->add_flag("--observe", a->observe, "print leader changes until Ctrl-C instead");
  elect->add_option("--session-ttl", a->ttl,
                    "the session's TTL: how soon the broker withdraws a dead atomix")
      ->check(DurationValidator())
      ->capture_default_str();
  elect->add_option("--grace", a->grace,
                    "after leadership is lost, SIGKILL CMD if it outlives its SIGTERM by this")
      ->check(DurationValidator())
      ->capture_default_str();
  elect->callback([&ctx, a] {
    if (a->observe) {
      if (!a->candidate.empty() || !a->command.empty()) {
        throw CLI::ValidationError("--observe", "takes only NAME, no CANDIDATE or command");
      }
      ctx.run = [&ctx, a] {
        WatchArgs w;
        w.kind = "election";
        w.name = a->name;
        w.leaders_only = true;
        return RunWatch(ctx, w);
      };
      return;
    }
    if (a->candidate.empty()) throw CLI::RequiredError("candidate");
    if (a->command.empty()) throw CLI::RequiredError("command (after --)");
    ctx.run = [&ctx, a] { return Run(ctx, *a); };
  });
}

}  // namespace atomix::cli
