// Internal: one watch (see atomix/watch.h and atomix/internal/watch_core.h):
// a chain of Broker.Watch calls, each read by a gRPC callback reactor, that
// together deliver every revision once and in order.
//
// Per call ("attempt"):
//   - The request resumes where the last one left off: start_revision = the
//     revision after the last one delivered (or the first header's revision
//     + 1, or the caller's start version, while nothing was delivered), and
//     broker_id = the broker incarnation that revision came from. A replay
//     that was not completely delivered is asked for again.
//   - The first message must be the header. Snapshot parts are collected
//     until the last one (more = false), then delivered at once; events are
//     delivered per message. Events below the resume point are skipped, so
//     a revision is never delivered twice.
//   - Flow control: one read at a time, and the next one is only started
//     while the output has room. Otherwise the reactor takes a hold (so the
//     call cannot finish under us) and the output's room callback starts the
//     read and releases the hold.
//   - When the call ends: INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND,
//     ALREADY_EXISTS, PERMISSION_DENIED, UNAUTHENTICATED, UNIMPLEMENTED,
//     OUT_OF_RANGE and DATA_LOSS end the watch with that status; anything
//     else (the broker restarted, the network failed, the stream was reset,
//     the broker ended it) starts the next attempt after a backoff (none
//     after a call that got its header, then 50 ms doubling to 1 s,
//     jittered), on a gRPC timer.
//
// Lifetime: a WatchStream is shared by its current reactor, its retry timer
// and the output's callbacks; the hub knows it weakly. Stop() ends it from
// any thread: no new call or timer starts, the current call is cancelled
// and the timer too, and the output is closed with the status. Every gRPC
// call and timer is counted in the hub (BeginOp/EndOp) until its last
// callback has returned.
//
// Lock order: the stream's mu_, then the hub's. No lock of the stream is
// held while calling the output, starting or cancelling a call, or setting
// or cancelling a timer (gRPC may run callbacks inline there).
//
// Thread-safety: every public method is safe from any thread.
#ifndef ATOMIX_SDK_SRC_WATCH_STREAM_H_
#define ATOMIX_SDK_SRC_WATCH_STREAM_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "absl/status/status.h"
#include "atomix/internal/watch_core.h"
#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/alarm.h"
#include "sdk/src/backoff.h"
#include "sdk/src/watch_hub.h"

namespace atomix::internal {

class WatchStream : public std::enable_shared_from_this<WatchStream> {
 public:
  using Clock = std::chrono::steady_clock;

  WatchStream(std::shared_ptr<WatchHub> hub, WatchTarget target, const WatchOptions& options,
              std::shared_ptr<WatchOutput> output);
  ~WatchStream();

  // Starts the first call and waits until the broker accepted the watch
  // (OK), refused it (its status), or `deadline` / `cancel` came first (the
  // watch is stopped then). Call once.
  absl::Status Start(Clock::time_point deadline, const std::stop_token& cancel);

  // Ends the watch and closes the output with `status`. Idempotent.
  void Stop(absl::Status status);

 private:
  class Attempt;

  // Starts a call (after the retry timer, or the first one).
  void StartAttempt();
  void OnRead(Attempt* attempt);
  void OnAttemptDone(Attempt* attempt, const grpc::Status& status);
  void OnTimer(bool fired);
  // Starts the next read of attempt `seq` if it is still paused.
  void Resume(uint64_t seq);
  // Reads on if the output has room, or pauses until it has.
  void ReadNextOrPause(const std::shared_ptr<Attempt>& attempt, uint64_t seq);
  v1::WatchRequest RequestLocked() const;
  absl::Status GiveUpStatusLocked(bool cancelled) const;

  const std::shared_ptr<WatchHub> hub_;
  const WatchTarget target_;
  const std::optional<Version> start_version_;
  const std::shared_ptr<WatchOutput> output_;

  mutable std::mutex mu_;
  std::condition_variable started_cv_;
  bool header_seen_ = false;  // The first header arrived: Start() succeeded.
  bool stopped_ = false;
  absl::Status stop_status_;
  std::shared_ptr<Attempt> attempt_;  // The current call, until its OnDone.
  uint64_t attempt_seq_ = 0;
  bool paused_ = false;  // attempt_ holds a hold and reads nothing.
  std::shared_ptr<grpc::Alarm> timer_;
  Backoff backoff_;
  std::string last_error_;

  // Where the next call resumes.
  bool replay_pending_;  // The replay snapshot was not delivered yet.
  bool position_known_ = false;
  int64_t next_start_ = 0;     // The first revision not delivered yet.
  std::string resume_broker_;  // The broker incarnation next_start_ belongs to.

  // The current call.
  bool attempt_header_ = false;
  std::string attempt_broker_;
  std::optional<RawSnapshot> partial_;  // Snapshot parts so far.
};

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_WATCH_STREAM_H_
