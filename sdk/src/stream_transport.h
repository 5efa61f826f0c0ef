// Internal: the ClientCore for ClientOptions::Transport::kStream. One
// long-lived Broker.Stream per client carries every call, many at a time.
//
// Threads and ownership:
//   - CallAsync() enqueues a heap-allocated PendingCall, which is also the
//     state of the caller's future, and returns at once. Call() and
//     CallBlocking() wait for that future; there is one code path. The
//     transport keeps each call alive while it is queued or in flight.
//   - One timer thread (TimerLoop) ends calls whose deadline passes, where
//     they are, and writes unanswered calls again when their resend
//     interval passes. A caller's stop_token ends its call from the thread
//     that stops it. Either way the call is taken out of the queue or the
//     in-flight table, so nothing is left behind.
//   - One writer thread owns the connection. It opens the stream on a fresh
//     channel, trying the endpoints in order with backoff (50 ms doubling to
//     1 s, jittered), and waits for the broker's first ResponseBatch, which
//     carries BrokerInfo; only then is the client connected. It then sends
//     everything queued as one RequestBatch (up to max_batch_requests and
//     kMaxBatchBytes) per Write. Calls that arrive during a Write are
//     coalesced into the next one. Batching waits for no timer: before
//     cutting a batch the writer only yields while the queue is still
//     growing. A small call (up to kMaxDirectWriteBytes) that finds the
//     client idle (nothing queued or in flight, the writer waiting) is
//     written by its caller's thread at once instead, saving the hop to the
//     writer.
//   - One reader thread per stream matches responses to calls by request id,
//     in any order, and hands a batch of answers out as a tree: it wakes one
//     waiting caller and each woken caller wakes two more (a call nobody
//     waits for is completed by whoever would have woken it, and posts its
//     continuation to the client's callback executor).
//   - When a stream fails, the writer joins its reader and sends in-flight
//     calls again on the next stream if that is safe: idempotent calls, and
//     mutations stamped with a (session, sequence) of a session that is
//     still alive. Other mutations fail with UNAVAILABLE (they may or may not
//     have been applied).
//   - One session thread (stream_session.cc) opens the broker session once a
//     stream is greeted, checks it with a keep-alive on every new stream and
//     every session_ttl / 3, and tracks the lease by the send time of the
//     last successful keep-alive. Session requests are "control" calls: they
//     go through their own queue, which the writer always drains first.
//     Callers' calls are written only once the session is known to be good
//     on the current stream (`session_ready_`), so nothing goes out with a
//     session the broker may have forgotten, and a lost session's token is
//     stopped before any request carries its replacement.
//   - A blocking call (CallBlocking, a lock acquire) carries the time left
//     before its caller's deadline in every write. If its caller gives up
//     after it was written, the call is handed to one cleanup thread
//     (stream_abandon.cc), which sends the broker a CancelRequest for its
//     (session, sequence) and, if the broker had granted it meanwhile,
//     the primitive's give-back request (a fenced release). Its sequence
//     stays outstanding until the cancel is answered, so the broker still
//     remembers the answer when the cancel asks for it.
//   - Calls are stamped when first written: Request.session_id, a sequence
//     number for mutations (per session, increasing in write order), and
//     ack_sequence = the highest sequence below every sequence still
//     outstanding (queued, in flight, or waiting to be sent again).
//
// Lock order: CancelTarget::mu, then mu_, then a call's FutureSignal mutex,
// then the callback executor's. A call may be completed (and so released)
// under mu_; what completing it runs there is the transport's own code,
// since continuations are posted to the executor. No lock is held across a
// gRPC Read or Write, a stop_source::request_stop() or a blocking call.
//
// Watches run on a WatchHub of their own (sdk/src/watch_hub.h), on a gRPC
// channel separate from the stream; the destructor shuts it down first.
//
// Thread-safety: all public methods are safe from any thread. The destructor
// stops the cleanup thread, closes the session (best effort, briefly),
// cancels the stream, fails every call still pending with CANCELLED and
// joins all threads; it must not run while a Call() is in progress (handles
// keep the core alive for that).
#ifndef ATOMIX_SDK_SRC_STREAM_TRANSPORT_H_
#define ATOMIX_SDK_SRC_STREAM_TRANSPORT_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "sdk/src/client_core.h"
#include "sdk/src/pending_call.h"
#include "sdk/src/watch_hub.h"

namespace atomix::internal {

// ABORTED: session `id` is lost (`why`); the operation may or may not have
// been applied.
absl::Status SessionLostError(uint64_t id, const std::string& why);

class StreamCore final : public ClientCore {
 public:
  using Clock = std::chrono::steady_clock;
  // Soft upper bound on the bytes of one RequestBatch (a single larger
  // request still goes alone).
  static constexpr size_t kMaxBatchBytes = 4 << 20;
  // Larger requests fail with INVALID_ARGUMENT instead of breaking the
  // stream (the gRPC message limit is 64 MiB).
  static constexpr size_t kMaxRequestBytes = (64 << 20) - 1024;
  // The largest request a caller writes itself on an idle client; larger
  // ones go through the writer, so a slow flow-control window never blocks
  // the caller.
  static constexpr size_t kMaxDirectWriteBytes = 16 << 10;

  // `options.endpoints` must not be empty. Starts connecting at once.
  explicit StreamCore(ClientOptions options);
  ~StreamCore() override;

  StreamCore(const StreamCore&) = delete;
  StreamCore& operator=(const StreamCore&) = delete;

  ResponseState CallAsync(v1::Request request, const CallOptions& options,
                          CallKind kind) override;
  absl::StatusOr<v1::Response> Call(v1::Request request, const CallOptions& options,
                                    bool idempotent) override;
  absl::StatusOr<v1::Response> CallBlocking(v1::Request request, const CallOptions& options,
                                            GiveBack give_back) override;
  void EndSession(Clock::time_point deadline) override;
  const ClientOptions& options() const override { return options_; }
  absl::Status WaitConnected(std::chrono::steady_clock::time_point deadline) override;
  std::string connected_endpoint() const override;
  std::string broker_id() const override;
  uint64_t session_id() const override;
  std::stop_token SessionLostToken(uint64_t id) const override;
  SessionState session_state() const override;
  void WatchSessionState(Channel<SessionState> channel) override;
  std::shared_ptr<WatchHub> watch_hub() override { return watch_hub_; }

  // Test hooks. While writes are held the writer sends nothing, so tests can
  // queue a known set of calls and release them as one batch.
  void TEST_HoldWrites(bool hold);
  // Calls queued, and calls written but not answered.
  size_t TEST_Queued() const;
  size_t TEST_InFlight() const;
  // The ack_sequence the next request would carry.
  uint64_t TEST_AckSequence() const;
  // Cancels the current stream, as a network fault would end it.
  void TEST_BreakStream();

 private:
  using Stream = grpc::ClientReaderWriter<v1::RequestBatch, v1::ResponseBatch>;

  // A call of the transport itself, or a caller's.
  struct Kind : CallKind {
    bool control = false;
  };

  // Enqueues a call with an absolute deadline; `cancel` ends it early.
  std::shared_ptr<PendingCall> Start(v1::Request request, Clock::time_point deadline,
                                     const std::stop_token& cancel, Kind kind);
  absl::StatusOr<v1::Response> CallImpl(v1::Request request, Clock::time_point deadline,
                                        const std::stop_token& cancel, bool idempotent,
                                        bool control) {
    Kind kind;
    kind.idempotent = idempotent;
    kind.control = control;
    return Await(Start(std::move(request), deadline, cancel, std::move(kind)));
  }

  // The timer thread: deadlines and resends.
  void TimerLoop();
  // Wakes the timer if `when` is earlier than what it waits for.
  void WakeTimerLocked(Clock::time_point when);
  // A caller's stop_token fired: ends `call` with CANCELLED unless it is
  // complete already.
  void CancelCall(PendingCall& call);
  // What a stop_callback reaches the core through, so that one firing after
  // the core is gone does nothing.
  struct CancelTarget {
    std::mutex mu;
    StreamCore* core = nullptr;
  };

  void WriterLoop();
  // Opens one stream to endpoint `index` and serves it until it fails.
  // Returns whether it got connected.
  bool RunStream(std::unique_lock<std::mutex>& lock, size_t index);
  // Writes batches until the stream breaks or the core shuts down.
  void PumpLocked(std::unique_lock<std::mutex>& lock, Stream& stream);
  // Takes a batch of queued calls and writes it to `stream` with `lock`
  // released (writing_ set meanwhile). False if the stream broke.
  bool WriteBatchLocked(std::unique_lock<std::mutex>& lock, Stream& stream,
                        v1::RequestBatch& batch);
  // After `call` is queued: writes it from this thread if the client is
  // idle (see MayWriteDirectlyLocked). Returns whether to wake the writer.
  bool SendLocked(std::unique_lock<std::mutex>& lock, PendingCall& call);
  // Whether a caller may write its own call (the only one) at once.
  bool MayWriteDirectlyLocked() const;
  // Moves queued calls into `batch`; returns whether any is idempotent.
  bool TakeBatchLocked(v1::RequestBatch& batch);
  // Gives idempotent calls still in flight their written request back.
  void RestoreRequestsLocked(v1::RequestBatch& batch);
  // After a stream is gone: resend idempotent calls, fail the others.
  void RecoverInFlightLocked(const std::string& endpoint);
  void ReadLoop(Stream* stream);

  // The session thread (stream_session.cc).
  void SessionLoop();
  // Each runs one session request with `lock` released meanwhile.
  void OpenSessionLocked(std::unique_lock<std::mutex>& lock, uint64_t epoch);
  void KeepAliveLocked(std::unique_lock<std::mutex>& lock, uint64_t epoch);
  // The cleanup thread (stream_abandon.cc): settles blocking requests whose
  // callers gave up after they were written.
  struct Abandoned {
    uint64_t session_id = 0;
    uint64_t sequence = 0;
    GiveBack give_back;
  };
  void CleanupLoop();
  // Asks the broker to withdraw `a`, and gives back what it had granted.
  void Settle(Abandoned& a);
  // Sends `request` as part of session `session_id` until it is answered,
  // that session is lost, or the client closes.
  absl::StatusOr<v1::Response> SendForSession(v1::Request request, uint64_t session_id,
                                              bool idempotent);
  // Declares the current session lost: fails the mutations that carry it,
  // stops its token (with `lock` released) and reports kLost.
  void LoseSessionLocked(std::unique_lock<std::mutex>& lock, const std::string& why);
  void SetStateLocked(SessionState state);
  // The ack_sequence for the current session.
  uint64_t AckLocked() const;
  // Stamps `call` for its first write, or checks it may be written again.
  // False if it must not be sent (then it is failed).
  bool StampLocked(PendingCall& call);
  void ForgetSequenceLocked(uint64_t session_id, uint64_t sequence);
  void ForgetSequenceLocked(const PendingCall& call) {
    ForgetSequenceLocked(call.session_id, call.sequence);
  }
  // True if the call at the head of queue_ needs a new sequence number and
  // the broker already remembers as many unacknowledged answers of this
  // session as it keeps (docs/protocol.md): it waits, and so do the calls
  // behind it, until the oldest unanswered sequence is answered.
  bool SequenceWindowFullLocked() const;

  // UNAVAILABLE naming the endpoints and the last connection error.
  absl::Status NotConnectedErrorLocked() const;
  // The error for a call that gives up (deadline or cancel) where it is.
  absl::Status AbandonLocked(PendingCall& call, bool cancelled);
  // A blocking call whose caller gives up after it was written: hands it to
  // the cleanup thread, its sequence still outstanding. False (nothing
  // done) for any other call, or one of a session that is already gone.
  bool LeaveBehindLocked(PendingCall& call);
  // A read, or a mutation of the current session, that is in flight with no
  // answer yet goes back to the head of the queue, to be written again (a
  // mutation with the same session and sequence): its answer may have been
  // lost on a stream that is still up. Returns whether the writer must be
  // woken.
  bool ResendLocked(PendingCall& call);

  const ClientOptions options_;
  const std::chrono::milliseconds handshake_timeout_;
  const std::shared_ptr<WatchHub> watch_hub_;

  mutable std::mutex mu_;
  std::condition_variable writer_cv_;  // Wakes the writer.
  std::condition_variable state_cv_;   // Signals connected_ and shutdown_.
  bool shutdown_ = false;
  bool greeted_ = false;        // The current stream delivered BrokerInfo.
  bool connected_ = false;      // ... and has not failed since.
  bool stream_broken_ = false;  // The current stream failed (read or write).
  bool reader_done_ = false;    // The current stream's reader has returned.
  bool writer_idle_ = false;    // The writer waits for calls.
  bool hold_writes_ = false;
  // The current stream while the writer serves it; a caller of an idle
  // client writes its call there itself (MayWriteDirectlyLocked). Writes
  // never overlap: whoever writes sets writing_, and the writer waits for
  // it to clear before writing or ending the stream.
  Stream* stream_ = nullptr;
  bool writing_ = false;
  uint64_t next_id_ = 1;
  CallQueue queue_;
  absl::flat_hash_map<uint64_t, PendingCall*> in_flight_;
  grpc::ClientContext* context_ = nullptr;  // Of the current stream, if any.
  std::string endpoint_;                    // Of the current or last stream.
  std::string broker_id_;
  std::string last_error_;
  bool last_unauthenticated_ = false;  // last_error_ is the broker's UNAUTHENTICATED

  // Session state; see stream_session.cc.
  std::condition_variable session_cv_;  // Wakes the session thread.
  CallQueue control_queue_;
  uint64_t stream_epoch_ = 0;     // Raised on every greeted stream.
  uint64_t verified_epoch_ = 0;   // The stream on which the session was last checked.
  bool session_ready_ = false;    // Callers' calls may be written on this stream.
  bool session_less_ = false;     // The broker does not support sessions.
  bool check_session_ = false;    // A request of the session got ABORTED.
  bool ever_lost_ = false;
  bool closing_ = false;          // The destructor closes the session.
  uint64_t session_id_ = 0;
  std::chrono::milliseconds ttl_;
  Clock::time_point lease_end_;
  Clock::time_point next_keepalive_;
  SessionState session_state_ = SessionState::kSuspended;
  std::stop_source lost_source_;  // Of session_id_.
  uint64_t next_sequence_ = 1;
  std::set<uint64_t> outstanding_;  // Sequences not answered yet.
  // The broker keeps at most this many unacknowledged answers per session.
  static constexpr uint64_t kMaxUnacknowledged = 1024;
  std::vector<Channel<SessionState>> watchers_;
  uint64_t open_nonce_ = 0;  // Of the session open being tried, until it succeeds.

  // Blocking requests whose callers gave up; their sequences stay in
  // outstanding_ until the broker settled them.
  std::deque<Abandoned> abandoned_;
  std::condition_variable cleanup_cv_;  // Wakes the cleanup thread.
  std::stop_source cleanup_stop_;       // Stops its calls when the core closes.

  // The timer thread's next wake-up; earlier deadlines and resends wake it.
  std::condition_variable timer_cv_;
  Clock::time_point timer_next_ = Clock::time_point::max();
  bool timer_kick_ = false;
  const std::shared_ptr<CancelTarget> cancel_target_ = std::make_shared<CancelTarget>();

  std::thread writer_;   // Last: they start once everything above exists.
  std::thread session_;
  std::thread cleanup_;
  std::thread timer_;
};

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_STREAM_TRANSPORT_H_
