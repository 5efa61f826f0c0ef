// atomix lock NAME -- CMD ARGS...: run CMD while holding the lock.
//
// The lock is acquired (waiting in FIFO order, up to --wait), CMD starts
// with the grant's fence in ATOMIX_FENCE, and when CMD exits the lock is
// released and atomix exits with CMD's code. If the lock is lost while CMD
// runs (the session is lost, or a watch of the lock shows another fence),
// CMD gets SIGTERM (SIGKILL after --grace) and atomix exits with kExitLost.
#include <signal.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "atomix/lock.h"
#include "cli/src/command.h"
#include "cli/src/context.h"
#include "cli/src/exit_codes.h"
#include "cli/src/signals.h"

namespace atomix::cli {
namespace {

struct LockArgs {
  std::string name;
  std::vector<std::string> command;
  std::string wait = "0";
  std::string ttl = "10s";
  std::string grace = "10s";
};

int Run(const Context& ctx, const LockArgs& a) {
  const auto wait = *ParseDuration(a.wait, /*allow_zero=*/true);
  const auto ttl = *ParseDuration(a.ttl);
  const auto grace = *ParseDuration(a.grace);
  BlockSignals();  // before the client starts its threads
  auto client = ctx.Connect(ttl);
  if (!client.ok()) return ctx.Fail("connect", client.status());
  auto lock = GetLock(*client, a.name, ctx.Call());
  if (!lock.ok()) return ctx.Fail(absl::StrCat("lock ", a.name), lock.status());

  // Acquire on a helper thread, so that SIGINT/SIGTERM can cancel the wait.
  std::stop_source cancel;
  CallOptions acquire;
  acquire.cancel = cancel.get_token();
  if (wait.count() > 0) acquire.timeout = wait;
  else acquire.timeout = std::chrono::hours(24 * 365 * 100);  // no limit
  std::optional<absl::StatusOr<LockGuard>> granted;
  std::atomic<bool> done{false};
  std::thread acquirer([&] {
    granted.emplace(LockGuard::Acquire(*lock, acquire));
    done = true;
    Wake();
  });
  int interrupted = 0;
  while (!done) {
    const int sig = WaitSignal(std::nullopt);
    if ((sig == SIGINT || sig == SIGTERM) && interrupted == 0) {
      interrupted = sig;
      cancel.request_stop();
    }
  }
  acquirer.join();
  if (interrupted != 0) return 128 + interrupted;  // a crossing grant is released by ~LockGuard
  if (!granted->ok()) {
    if (absl::IsDeadlineExceeded(granted->status()) && wait.count() > 0) {
      return Report(kExitFailed, absl::StrCat("lock ", a.name, ": not granted within ", a.wait));
    }
    return ctx.Fail(absl::StrCat("lock ", a.name), granted->status());
  }
  LockGuard& guard = **granted;
  const Version fence = guard.fence().version;

  // Loss: the session ends, or the lock shows another holder.
  std::atomic<bool> lost{false};
  auto mark_lost = [&lost] {
    lost = true;
    Wake();
  };
  std::stop_callback on_session_lost(guard.stop_token(), mark_lost);
  WatchOptions wo;
  wo.replay = true;
  wo.timeout = ctx.timeout;
  auto events = lock->Watch(wo);
  if (!events.ok()) return ctx.Fail(absl::StrCat("lock ", a.name), events.status());
  // A watch that ends before we close it can no longer tell whether the
  // lock is held: that counts as lost too.
  std::atomic<bool> closing{false};
  std::thread watcher([&, channel = *events]() mutable {
    for (const LockEvent& e : channel) {
      if (e.fence != fence) break;
    }
    if (!closing) mark_lost();
  });

  auto child = StartCommand(a.command, {absl::StrCat("ATOMIX_FENCE=", fence),
                                        absl::StrCat("ATOMIX_LOCK=", a.name)});
  int code = kExitCannotRun;
  if (!child.ok()) {
    Report(kExitCannotRun, std::string(child.status().message()));
  } else {
    code = Supervise(*child, [&lost] { return lost.load(); }, grace);
  }
  closing = true;
  events->Close();
  watcher.join();
  if (code == kExitLost) {
    Report(kExitLost, absl::StrCat("lock ", a.name, ": lost while the command ran (fence ",
                                   fence, "); the command was stopped"));
    guard.Release(WithTimeout(std::chrono::milliseconds(200))).IgnoreError();
    return code;
  }
  absl::Status released = guard.Release(ctx.Call());
  if (!released.ok() && code == kExitOk) {
    return ctx.Fail(absl::StrCat("lock ", a.name, ": release"), released);
  }
  return code;
}

}  // namespace

void AddLockCommand(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<LockArgs>();
  CLI::App* lock = app.add_subcommand(
      "lock", "run CMD while holding lock NAME (its fence in ATOMIX_FENCE); exit with CMD's code");
  lock->add_option("name", a->name, "the lock's name")->required();
  lock->add_option("command", a->command, "the command to run, after --")->required();
  lock->add_option("--wait", a->wait,
                   "give up (exit 1) if not granted within this; 0 waits without limit")
      ->check(DurationValidator(/*allow_zero=*/true))
      ->capture_default_str();
  lock->add_option("--session-ttl", a->ttl,
                   "the session's TTL: how soon the broker frees the lock of a dead atomix")
      ->check(DurationValidator())
      ->capture_default_str();
  lock->add_option("--grace", a->grace,
                   "after the lock is lost, SIGKILL CMD if it outlives its SIGTERM by this")
      ->check(DurationValidator())
      ->capture_default_str();
  lock->callback([&ctx, a] { ctx.run = [&ctx, a] { return Run(ctx, *a); }; });
}

}  // namespace atomix::cli
