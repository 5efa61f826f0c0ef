// Client handles and the process-wide default client.
#include "atomix/client.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

#include "sdk/src/channel.h"
#include "sdk/src/client_core.h"
#include "sdk/src/exit_hooks.h"

namespace atomix {

absl::StatusOr<Client> Client::Connect(ClientOptions options) {
  if (options.session_ttl < std::chrono::seconds(1)) {
    return absl::InvalidArgumentError(absl::StrCat("session_ttl of ", options.session_ttl.count(),
                                                   " ms is below the minimum of 1000 ms"));
  }
  if (absl::Status secure = internal::ResolveSecurity(options); !secure.ok()) return secure;
  const auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  std::shared_ptr<internal::ClientCore> core = internal::NewClientCore(std::move(options));
  absl::Status status = core->WaitConnected(deadline);
  if (!status.ok()) return status;  // The core shuts down here.
  return Client(std::move(core));
}

Client Client::Create(ClientOptions options) {
  // Settings Connect would refuse (a file that cannot be read, a token
  // without TLS) must not fall back to the system's roots or to plaintext:
  // the client gets roots that trust nothing and no token, so it never
  // connects and its calls fail with UNAVAILABLE.
  if (absl::Status secure = internal::ResolveSecurity(options); !secure.ok()) {
    options.tls.emplace();
    options.tls->root_ca_pem = absl::StrCat("unusable: ", secure.message());
    options.token.clear();
  }
  return Client(internal::NewClientCore(std::move(options)));
}

const ClientOptions& Client::options() const { return core_->options(); }

std::string Client::connected_endpoint() const { return core_->connected_endpoint(); }

std::string Client::broker_id() const { return core_->broker_id(); }

SessionState Client::session_state() const { return core_->session_state(); }

uint64_t Client::session_id() const { return core_->session_id(); }

Session Client::session() const { return Session(core_, core_->session_id()); }

Channel<SessionState> Client::WatchSessionState(size_t capacity) const {
  Channel<SessionState> channel(capacity, Channel<SessionState>::Overflow::kDropOldest);
  core_->WatchSessionState(channel);
  return channel;
}

Subscription Client::OnSessionStateChange(std::function<void(SessionState)> callback) const {
  return WatchSessionState().OnReceive(std::move(callback), /*close_on_cancel=*/true);
}

const char* SessionStateName(SessionState state) {
  switch (state) {
    case SessionState::kConnected:
      return "connected";
    case SessionState::kSuspended:
      return "suspended";
    case SessionState::kLost:
      return "lost";
    case SessionState::kReconnected:
      return "reconnected";
  }
  return "unknown";
}

SessionState Session::state() const {
  if (id_ != 0 && Done().stop_requested()) return SessionState::kLost;
  return core_->session_state();
}

std::stop_token Session::Done() const { return core_->SessionLostToken(id_); }

bool Session::WaitDone(std::chrono::steady_clock::time_point deadline) const {
  std::stop_token done = Done();
  if (!done.stop_possible()) {
    std::this_thread::sleep_until(deadline);
    return false;
  }
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> lock(mu);
  return cv.wait_until(lock, done, deadline, [] { return false; }) || done.stop_requested();
}

std::shared_ptr<internal::ClientCore> internal_core(const Client& c) { return c.core_; }

Client DefaultClient() {
  // Created on first use (thread-safe) and deliberately never destroyed:
  // primitives and threads of the application may still use it while static
  // destructors run at exit, and a connection torn down then would race with
  // them. The process exit reclaims it; the exit hooks close its session.
  // They are installed after the core exists, so that whatever it set up
  // statically is torn down after the hooks run.
  static const Client* const client = [] {
    auto* c = new Client(Client::Create());
    internal::InstallExitHooks(internal_core(*c).get());
    return c;
  }();
  return *client;
}

void Shutdown(std::chrono::milliseconds grace) { internal::CloseAtExit(grace); }

}  // namespace atomix
