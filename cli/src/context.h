// What every command shares: the global flags, the connection to the
// broker, deadlines, and how a failure is reported.
//
// Thread-safety: a Context is filled while parsing and then read by the one
// command that runs; its methods are safe from any thread after parsing.
#ifndef ATOMIX_CLI_CONTEXT_H_
#define ATOMIX_CLI_CONTEXT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/client.h"
#include "cli/src/output.h"
#include "grpcpp/security/credentials.h"

namespace atomix::cli {

struct Context {
  // Raw flag values, checked by Resolve().
  std::string endpoints_flag;
  std::string timeout_flag = "5s";
  std::string output_flag = "table";
  // TLS and authentication (docs/security.md).
  bool tls_flag = false;
  std::string cacert_flag;
  std::string cert_flag;
  std::string key_flag;
  std::string token_flag;

  // After Resolve().
  std::vector<std::string> endpoints;
  std::chrono::milliseconds timeout{5000};
  Format format = Format::kTable;
  // The client's TLS settings and token (unset: plaintext, no token); the
  // files are read when connecting.
  std::optional<ClientOptions::Tls> tls;
  std::string token;

  // The command chosen on the command line; set by its subcommand callback.
  std::function<int()> run;

  // Checks the global flags; throws CLI::ValidationError naming the problem.
  void Resolve();

  // Connects to the broker (waiting up to --timeout) with a session of
  // `session_ttl`; every call through the client defaults to --timeout.
  absl::StatusOr<Client> Connect(
      std::chrono::milliseconds session_ttl = std::chrono::seconds(10)) const;

  // Channel credentials for calls the SDK does not make (Admin): TLS and
  // the token as Connect uses them; INVALID_ARGUMENT naming a bad file.
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials() const;

  // A deadline of --timeout from now.
  CallOptions Call() const { return WithTimeout(timeout); }

  // Prints "atomix: <what>: <status message>" on stderr and returns the exit
  // code for `status` (exit_codes.h).
  int Fail(const std::string& what, const absl::Status& status) const;
};

// "500ms", "5s", "2m", "1h" (a plain number is seconds) as milliseconds;
// INVALID_ARGUMENT naming the text otherwise. Must be positive unless
// `allow_zero`.
absl::StatusOr<std::chrono::milliseconds> ParseDuration(const std::string& text,
                                                        bool allow_zero = false);

// A CLI11 validator for ParseDuration.
CLI::Validator DurationValidator(bool allow_zero = false);

// Prints "atomix: <message>" on stderr; returns `code`.
int Report(int code, const std::string& message);

// The command groups (one file each).
void AddCounterCommands(CLI::App& app, Context& ctx);
void AddValueCommands(CLI::App& app, Context& ctx);
void AddMapCommands(CLI::App& app, Context& ctx);
void AddSetCommands(CLI::App& app, Context& ctx);
void AddWatchCommand(CLI::App& app, Context& ctx);
void AddLockCommand(CLI::App& app, Context& ctx);
void AddElectCommand(CLI::App& app, Context& ctx);
void AddAdminCommands(CLI::App& app, Context& ctx);

}  // namespace atomix::cli

#endif  // ATOMIX_CLI_CONTEXT_H_
