// Internal: the connection core behind a Client handle. Primitives build
// atomix.v1 requests and send them through Call(). Not part of the public API.
//
// Thread-safety: every method is safe to call from any thread.
#ifndef ATOMIX_SDK_SRC_CLIENT_CORE_H_
#define ATOMIX_SDK_SRC_CLIENT_CORE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atomix/call_options.h"
#include "atomix/channel.h"
#include "atomix/client.h"
#include "atomix/internal/future_state.h"
#include "atomix/session.h"
#include "atomix/v1/broker.pb.h"
#include "sdk/src/give_back.h"

namespace atomix::internal {

class Executor;
class WatchHub;

// How a request is sent and retried; see ClientCore::Call and CallBlocking.
struct CallKind {
  bool idempotent = false;
  // A request the broker may hold until it can be granted (CallBlocking).
  bool blocking = false;
  GiveBack give_back;
};

using ResponseState = std::shared_ptr<FutureState<v1::Response>>;

class ClientCore {
 public:
  // Continuations of asynchronous calls run on `callback_threads` threads,
  // started on first use (sdk/src/executor.h).
  explicit ClientCore(int callback_threads = 2);
  // Shuts the executor down, after the transport's destructor completed
  // every call: what the calls posted still runs.
  virtual ~ClientCore();

  // Starts a call like Call() (or CallBlocking() for kind.blocking) and
  // returns its state at once; its signal becomes ready when the call is
  // complete, by its deadline at the latest, and posts continuations to
  // executor(). This default, for cores that only call synchronously,
  // runs the call on the calling thread and returns it complete.
  virtual ResponseState CallAsync(v1::Request request, const CallOptions& options, CallKind kind);

  // Sends `request` (Call assigns its id) and waits for the answer until the
  // call's deadline (CallOptions, else options().default_call_timeout).
  // A Response that carries an Error becomes a non-OK status with the same
  // code and message; Error.current travels as the kCurrentPayloadUrl payload
  // (see atomix/status.h). An `idempotent` request that was in flight when
  // the connection broke is sent again after reconnecting. With a session,
  // any other request carries a sequence number and is sent again too, with
  // the same (session_id, sequence), so the broker applies it at most once;
  // it fails with ABORTED if the session is lost first. Without a session it
  // fails with UNAVAILABLE.
  //
  // Call stamps Request.session_id with the current session. A request whose
  // session_id is already set is pinned to that session: it fails with
  // ABORTED (and is not sent) if that session is no longer the current one,
  // so work started under a lost session cannot continue under its
  // replacement.
  //
  // A core overrides either Call() and CallBlocking() or all three of them
  // with CallAsync(); this default waits for CallAsync().
  virtual absl::StatusOr<v1::Response> Call(v1::Request request, const CallOptions& options,
                                            bool idempotent);

  // A request the broker may hold until it can be granted (a lock acquire):
  // a mutation like Call(request, options, false), with three more rules.
  // Every write of it, first or resent, carries the time left before the
  // call's deadline (a little less) as Request.timeout_ms, so the broker
  // never holds it longer than its caller waits. When the caller gives up
  // (deadline or cancel) after it was written, the core asks the broker to
  // withdraw it (CancelRequest) in the background; and if the broker had
  // granted it anyway, the core sends give_back(that answer), so nothing
  // stays granted to a caller that is gone.
  //
  // This default, for cores without sessions, only forwards to Call().
  virtual absl::StatusOr<v1::Response> CallBlocking(v1::Request request,
                                                    const CallOptions& options,
                                                    GiveBack give_back) {
    (void)give_back;
    return Call(std::move(request), options, /*idempotent=*/false);
  }

  // Closes the session now, waiting for the broker's answer until
  // `deadline` at most, and opens no other one afterwards: calls that need
  // a session fail from then on. Destroys nothing, so it is safe at process
  // exit while other threads still hold handles. A core without sessions
  // does nothing.
  virtual void EndSession(std::chrono::steady_clock::time_point deadline) { (void)deadline; }

  virtual const ClientOptions& options() const = 0;

  // Waits until a connection is up or `deadline` passes (UNAVAILABLE naming
  // the endpoints then).
  virtual absl::Status WaitConnected(std::chrono::steady_clock::time_point deadline) = 0;

  // The endpoint of the current connection, or empty.
  virtual std::string connected_endpoint() const = 0;
  // BrokerInfo.broker_id of the current connection, or empty.
  virtual std::string broker_id() const = 0;

  // The broker session this core holds now, or 0 while none is open. Call()
  // stamps it into Request.session_id (and a sequence number into mutations)
  // so primitives never handle sessions themselves.
  virtual uint64_t session_id() const { return 0; }

  // A token that is stopped when session `id` is lost (expired, closed, or
  // replaced after the broker forgot it). A token for a session that is
  // already gone is stopped at once. Lock guards hand it to critical
  // sections.
  virtual std::stop_token SessionLostToken(uint64_t id) const {
    (void)id;
    return {};
  }

  // The state of the session (atomix/session.h). A core without sessions is
  // always kConnected.
  virtual SessionState session_state() const { return SessionState::kConnected; }

  // Sends every later session state change to `channel` until it is closed;
  // the core closes it when it shuts down. A core without sessions never
  // sends anything.
  virtual void WatchSessionState(Channel<SessionState> channel) { (void)channel; }

  // What the core's watches share (sdk/src/watch_hub.h), or null for a
  // core that serves no watches (then Watch() fails with UNIMPLEMENTED). A
  // core that has one shuts it down first thing in its destructor, which
  // closes every watch channel of the client.
  virtual std::shared_ptr<WatchHub> watch_hub() { return nullptr; }

  // Where continuations of this core's calls run.
  const std::shared_ptr<Executor>& executor() const { return executor_; }

 private:
  const std::shared_ptr<Executor> executor_;
};

// Waits for a call started with CallAsync() and takes its result.
absl::StatusOr<v1::Response> Await(const ResponseState& call);

// A core for options.transport. Starts connecting in the background.
std::shared_ptr<ClientCore> NewClientCore(ClientOptions options);

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_CLIENT_CORE_H_
