// StreamReactor: serves one Broker.Stream call with gRPC's callback API.
//
// Lifecycle (as in gRPC's route_guide callback server): the reactor owns
// itself and deletes itself in OnDone, the last callback. It first writes a
// ResponseBatch that carries only BrokerInfo. Each RequestBatch read is
// handed to the Broker (ExecuteAsync) and the next read starts at once; the
// responses are queued for writing when the broker answers, which a store
// may do later, on its own thread. Writes are chained through OnWriteDone,
// one at a time, in order. While `max_queued_batches` batches are being
// applied or wait to be written the reactor stops reading (backpressure)
// and resumes when one is answered or written; it also stops reading while
// more than `max_queued_bytes` of serialized responses wait to be written,
// so a client that sends but never reads pins at most about that much (plus
// one batch being applied per free slot); and a stream with answers waiting
// stops reading while all streams together have more than
// `max_total_queued_bytes` waiting. Messages are raw bytes: the
// reactor parses each RequestBatch itself and serializes each ResponseBatch
// when it is queued. A message that does not parse ends reading like a
// half-close: the answers of every earlier batch (including those a store
// is still applying) are written first, then the call ends with
// INVALID_ARGUMENT naming the method and the message's number in the
// stream ("message 3 of this stream is not a valid ..."). Finish is called
// exactly once: after the client half-closes (or sent a message that does
// not parse) and every queued batch is written, or at once when the call is
// cancelled or a write fails. Nothing is started after Finish.
//
// Late answers (a lock acquire granted after its batch was answered) arrive
// through Deliver, from whichever thread produced them: the reactor is
// registered with the CompletionRouter under its own origin from
// construction until OnDone, and Deliver queues them like any batch, or
// drops them once Finish was called. OnDone unregisters first (so no
// delivery can touch the reactor after it), waits for the broker to answer
// every batch it was handed, then cancels the stream's waiting requests in
// the broker, then deletes the reactor. The call is also
// registered with the CallRegistry from construction until OnDone, so that
// fault injection can reset it.
//
// Thread-safety: gRPC may run OnReadDone, OnWriteDone and OnCancel
// concurrently; all reactor state is guarded by one mutex. The read buffer is
// owned by the one outstanding read and is touched only by OnReadDone.
#ifndef ATOMIX_BROKER_SERVER_STREAM_REACTOR_H_
#define ATOMIX_BROKER_SERVER_STREAM_REACTOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "atomix/v1/broker.grpc.pb.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/server/call_registry.h"
#include "broker-sim/src/server/completion_router.h"
#include "broker-sim/src/server/faults.h"

namespace atomix::broker {

struct StreamOptions {
  // Response batches that may wait to be written before reading pauses.
  size_t max_queued_batches = 16;
  // Response batches above this size are split into several messages.
  size_t max_batch_bytes = 4 << 20;
  // Serialized response bytes that may wait to be written before reading
  // pauses (--max-stream-queued-mb). At least one batch is always queued.
  size_t max_queued_bytes = 8 << 20;
  // Over all streams (--max-stream-queued-total-mb): while the total of
  // answers waiting to be written passes this, a stream that has answers
  // waiting stops reading. A stream with none waiting still reads, so a
  // paused stream always has a write whose completion wakes it.
  size_t max_total_queued_bytes = 256 << 20;
  // The total, shared by every stream of a service; null: not counted.
  std::atomic<size_t>* total_queued_bytes = nullptr;
};

class StreamReactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
      public ResponseSink {
 public:
  StreamReactor(Broker& broker, CompletionRouter& router,
                FaultInjector& faults, CallRegistry& calls,
                grpc::CallbackServerContext* context, StreamOptions options,
                std::string principal = "");

  void Deliver(std::vector<v1::Response> responses) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  ~StreamReactor() override = default;  // only OnDone deletes

  // Starts writing the queue's front if no write is in flight.
  void MaybeWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the next read unless one is in flight, the queue is full, or the
  // stream is ending.
  void MaybeRead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls Finish once nothing more will be written.
  void MaybeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The broker answered a batch: queues its responses, routes its late
  // answers.
  void Answered(v1::ResponseBatch& out, std::vector<Completion>& completions)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Counts `n` more (or fewer) queued bytes, here and in the shared total.
  void AddQueued(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SubQueued(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops every queued batch.
  void ClearQueue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues `batch` (split if large) for writing.
  void Enqueue(v1::ResponseBatch batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Broker& broker_;
  CompletionRouter& router_;
  FaultInjector& faults_;
  CallRegistry& calls_;
  const StreamOptions options_;
  uint64_t origin_ = 0;  // set in the constructor, then read-only
  uint64_t call_id_ = 0;  // likewise
  const uint64_t stream_id_;
  const std::string peer_;
  const std::string principal_;  // who the stream's batches act as
  // Valid until OnDone; read only (its client metadata).
  grpc::CallbackServerContext* const context_;

  // Filled by the outstanding read; used by OnReadDone only.
  grpc::ByteBuffer request_;

  absl::Mutex mu_;
  // Serialized batches to write; the front is being written while writing_.
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // sum of queue_'s sizes
  // Set when a message does not parse: the status the call ends with.
  grpc::Status read_error_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool read_closed_ ABSL_GUARDED_BY(mu_) = false;   // half-close or error
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;      // Finish was called
  uint64_t batches_ ABSL_GUARDED_BY(mu_) = 0;       // request batches read
  // Batches handed to the broker and not answered yet.
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_SERVER_STREAM_REACTOR_H_
