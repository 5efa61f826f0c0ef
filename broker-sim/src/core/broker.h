// The broker core: validates requests and applies them to the Store. It knows
// nothing of gRPC; the server front (server/) feeds it batches.
//
//   Broker broker(std::make_unique<MemoryStore>(limits), limits);
//   v1::ResponseBatch out;
//   broker.Execute(batch, out);  // one response per request, in order
//
// Requests that wait (a blocked lock acquire) are answered later; callers
// that can take such late answers use the overloads with an origin and
// route the Completions they receive. Logical time comes from the clock
// function the store was given (read once per batch) and from Tick, which
// the server calls periodically.
//
// Thread-safety: thread-safe. Execute() may be called from any number of
// threads; each batch is applied atomically and in order by the Store.
#ifndef ATOMIX_BROKER_CORE_BROKER_H_
#define ATOMIX_BROKER_CORE_BROKER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/core/access_control.h"
#include "broker-sim/src/core/request_observer.h"
#include "broker-sim/src/state/limits.h"
#include "broker-sim/src/store/store.h"

namespace atomix::broker {

// A random 128-bit identifier for a broker incarnation, in hex.
std::string NewBrokerId();

// A random base for session ids, so that ids of one broker incarnation (or
// data dir) mean nothing to another: ABORTED there, never someone else's
// session.
uint64_t NewSessionIdBase();

// A new secret key for session ids (engine/session_ids.h): 16 bytes from
// the OS CSPRNG (getrandom).
std::string NewSessionKey();

class Broker {
 public:
  // `broker_id` names this incarnation to watchers (BrokerInfo.broker_id);
  // empty: a random one. A store that keeps its history across restarts
  // passes the id it persisted.
  Broker(std::unique_ptr<Store> store, Limits limits,
         std::string broker_id = "");

  // Validates each request (bad ones get an INVALID_ARGUMENT response and
  // touch nothing), applies the valid ones to the store in order, and appends
  // one response per request to `out`, in request order. Every response
  // echoes its request's id.
  void Execute(const v1::RequestBatch& batch, v1::ResponseBatch& out);
  v1::Response Execute(const v1::Request& request);

  // As above, for a caller that can take late answers: requests that wait
  // (a blocked lock acquire) get no response in `out`; they are answered
  // later by a Completion addressed to `origin`, from this or a later call.
  // `completions` receives the late answers this call produced, for any
  // origin. Origin 0 means "nobody": its completions are to be dropped.
  void Execute(const v1::RequestBatch& batch, uint64_t origin,
               v1::ResponseBatch& out, std::vector<Completion>& completions);
  // False if the request waits (no response yet).
  bool Execute(const v1::Request& request, uint64_t origin,
               v1::Response& response, std::vector<Completion>& completions);

  // As Execute, but answered by calling `done` exactly once, maybe later
  // and on a thread of the store's (Store::ApplyAsync), with the responses
  // and the late answers the call produced. Batches of one origin are
  // applied in the order they were executed, so a caller may execute the
  // next batch before the previous one is answered.
  using ExecuteDone = std::function<void(v1::ResponseBatch& out,
                                         std::vector<Completion>& completions)>;
  void ExecuteAsync(v1::RequestBatch batch, uint64_t origin, ExecuteDone done);

  // As the calls above, for a caller that authenticated as `principal`
  // (server/auth.h; "" is the anonymous principal, which the overloads
  // without one use). Each request is first checked by Authorize: a refused
  // one gets that error as its response and touches nothing.
  void Execute(const v1::RequestBatch& batch, uint64_t origin,
               const std::string& principal, v1::ResponseBatch& out,
               std::vector<Completion>& completions);
  bool Execute(const v1::Request& request, uint64_t origin,
               const std::string& principal, v1::Response& response,
               std::vector<Completion>& completions);
  void ExecuteAsync(v1::RequestBatch batch, uint64_t origin,
                    std::string principal, ExecuteDone done);

  // Whether `principal` may make `request` under the access policy in
  // force (access(); core/request_access.h says which rights a request
  // needs): OK, or PERMISSION_DENIED naming the principal, the right and
  // the name. Everything is allowed with no policy.
  absl::Status Authorize(const std::string& principal,
                         const v1::Request& request) const;
  // Whether `principal` may watch what `request` names (the read right).
  absl::Status AuthorizeWatch(const std::string& principal,
                              const v1::WatchRequest& request) const;
  // Whether `principal` holds the admin right on `name` (always, with no
  // access policy): it may then act on what other sessions hold there,
  // such as releasing their lock by its fence.
  bool HasAdmin(const std::string& principal, std::string_view name) const;
  // Whether `principal` may make the operators' call `call`
  // ("Admin.ListSessions"): the admin right on every name ("*").
  absl::Status AuthorizeAdmin(const std::string& principal,
                              std::string_view call) const;

  // The access policy in force; with none (the default) everything is
  // allowed. Set or replace it at any time, from any thread.
  AccessControl& access() { return access_; }

  // Moves logical time to `now`: ends overdue sessions, expires TTL entries,
  // times out lock waiters. The server calls it periodically.
  void Tick(absl::Time now, std::vector<Completion>& completions);
  // The caller behind `origin` went away: forget its waiting requests.
  void Cancel(uint64_t origin);
  // Ends every session at once (fault injection).
  void ExpireAllSessions(std::vector<Completion>& completions);

  // What the broker tells a client when a stream opens.
  v1::BrokerInfo Info() const;

  // A random 128-bit identifier of this broker incarnation, in hex.
  const std::string& id() const { return broker_id_; }
  const Limits& limits() const { return limits_; }
  Store& store() { return *store_; }

  // Tells `observer` (may be null: nobody) about every batch from now on;
  // it must outlive the broker. Call before the broker is shared between
  // threads. Without an observer the broker reads no clock per batch.
  void SetObserver(RequestObserver* observer) { observer_ = observer; }

 private:
  std::unique_ptr<Store> store_;
  Limits limits_;
  std::string broker_id_;
  RequestObserver* observer_ = nullptr;
  AccessControl access_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CORE_BROKER_H_
