// atomix: a command-line client for an atomix broker, shaped like etcdctl.
//
//   atomix counter inc jobs
//   atomix -o json map list config --prefix db/
//   atomix lock db-writer -- ./migrate.sh
//
// Each command connects, does its calls (each with a deadline of
// --timeout), prints records as a table or as JSON lines, and exits with a
// code from exit_codes.h. See docs/cli.md.
#include <exception>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/src/context.h"
#include "cli/src/exit_codes.h"

namespace {

constexpr char kEpilog[] = R"(Exit codes:
  0    ok
  1    the broker refused or could not do the operation (cas mismatch,
       absent value or key, name of another type, lock not granted in --wait)
  2    usage error: bad command, flag or argument (nothing was sent)
  3    no broker answered, or a call's deadline (--timeout) passed
  4    lock/elect: the lock or the leadership was lost while CMD ran
       (CMD got SIGTERM, and SIGKILL after --grace)
  127  lock/elect: CMD could not be started
  N    lock/elect: CMD's exit code, or 128+signal if a signal ended it

Environment:
  ATOMIX_BROKER  broker endpoints when --endpoints is not given
  ATOMIX_TOKEN   bearer token when --token is not given (also ATOMIX_TLS,
                 ATOMIX_CACERT, ATOMIX_CERT, ATOMIX_KEY)
  lock passes ATOMIX_FENCE and ATOMIX_LOCK to CMD; elect passes
  ATOMIX_TERM, ATOMIX_ELECTION and ATOMIX_CANDIDATE.

Docs: docs/cli.md)";

// What is wrong with the command line, in one line. CLI11 reports a
// missing subcommand before a word it does not know; name that word.
std::string ProblemOf(const CLI::App& app, const CLI::Error& e) {
  const CLI::App* deepest = &app;
  while (!deepest->get_subcommands().empty()) deepest = deepest->get_subcommands().front();
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
      deepest->get_require_subcommand_min() > 0) {
    for (const std::string& word : app.remaining(/*recurse=*/true)) {
      if (!word.empty() && word[0] != '-') return "unknown command '" + word + "'";
    }
  }
  return e.what();
}

}  // namespace

int main(int argc, char** argv) {
  using atomix::cli::Context;
  Context ctx;
  CLI::App app{"atomix: read, write, watch and coordinate through an atomix broker", "atomix"};
  app.set_version_flag("--version", ATOMIX_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the command too
  app.add_option("--endpoints", ctx.endpoints_flag,
                 "broker host:port[,host:port...], tried in order (default 127.0.0.1:5679)")
      ->envname("ATOMIX_BROKER");
  app.add_option("--timeout", ctx.timeout_flag,
                 "deadline of each call and of connecting: 500ms, 5s, 1m")
      ->capture_default_str();
  app.add_option("-o,--output", ctx.output_flag, "output format: table or json (JSON lines)")
      ->capture_default_str();
  app.add_flag("--tls", ctx.tls_flag,
               "connect over TLS, trusting the system's CAs (implied by --cacert, --cert)")
      ->envname("ATOMIX_TLS");
  app.add_option("--cacert", ctx.cacert_flag,
                 "connect over TLS, trusting the CA certificates in this PEM file")
      ->envname("ATOMIX_CACERT");
  app.add_option("--cert", ctx.cert_flag, "mutual TLS: this client's PEM certificate")
      ->envname("ATOMIX_CERT");
  app.add_option("--key", ctx.key_flag, "mutual TLS: the PEM private key of --cert")
      ->envname("ATOMIX_KEY");
  app.add_option("--token", ctx.token_flag,
                 "bearer token sent with every call (needs TLS); prefer ATOMIX_TOKEN, "
                 "which other users cannot see in the process list")
      ->envname("ATOMIX_TOKEN");

  atomix::cli::AddCounterCommands(app, ctx);
  atomix::cli::AddValueCommands(app, ctx);
  atomix::cli::AddMapCommands(app, ctx);
  atomix::cli::AddSetCommands(app, ctx);
  atomix::cli::AddWatchCommand(app, ctx);
  atomix::cli::AddLockCommand(app, ctx);
  atomix::cli::AddElectCommand(app, ctx);
  atomix::cli::AddAdminCommands(app, ctx);
  app.footer(kEpilog);  // after the subcommands, which would inherit it

  try {
    app.parse(argc, argv);
    ctx.Resolve();
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return atomix::cli::kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return atomix::cli::kExitOk;
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << "\n";
    return atomix::cli::kExitOk;
  } catch (const CLI::Error& e) {
    // One line naming the problem, then the usage of the command it is in
    // (help() follows the subcommands that were parsed).
    std::cerr << "atomix: " << ProblemOf(app, e) << "\n\n" << app.help();
    return atomix::cli::kExitUsage;
  }
  if (!ctx.run) {
    std::cerr << app.help();
    return atomix::cli::kExitUsage;
  }
  return ctx.run();
}
