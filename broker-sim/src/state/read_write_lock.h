// ReadWriteLockState: a fair (FIFO) read-write lock with fences.
//
// Any number of READ grants, or one WRITE grant. Acquires are granted in
// arrival order: a waiting writer holds back every reader that arrives after
// it, so writers never starve, and the run of readers at the head of the
// queue is granted together, in one step, at one fence (the revision of that
// step). Grants are kept under an internal id, so one session may hold
// several read grants; a release names the session and the mode (and
// optionally the fence).
//
// There is no upgrade: a session that holds a read grant and asks for WRITE
// waits behind its own read grant like anyone else. Two readers upgrading at
// once would each wait for the other forever, and an upgrade that jumped the
// queue would starve the writers already waiting.
//
// Waiting, timing out and cancelling take no revision. When a waiter at the
// head leaves that way and the readers behind it could now be granted,
// NextDeadline reports the machine as due, and the next Advance grants them.
//
// Watch events (ReadWriteLockWatch): one per grant that changed, INSERTED
// when granted, REMOVED when released or its session ended, each with the
// mode and reader count after it.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_READ_WRITE_LOCK_H_
#define ATOMIX_BROKER_STATE_READ_WRITE_LOCK_H_

#include <cstdint>
#include <string>
#include <tuple>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/time/time.h"
#include "broker-sim/src/state/state_machine.h"
#include "broker-sim/src/state/wait_queue.h"

namespace atomix::broker {

class ReadWriteLockState final : public StateMachine {
 public:
  // Grants and waiters one lock keeps at most: an acquire beyond it fails
  // with RESOURCE_EXHAUSTED, so that memory and a watch snapshot (which
  // lists every grant in one message) stay bounded.
  static constexpr size_t kMaxGrantsAndWaiters = 65536;

  struct Grant {
    int64_t fence = 0;
    uint64_t session = 0;
    v1::LockMode mode = v1::LOCK_MODE_UNSPECIFIED;
  };

  v1::PrimitiveType type() const override { return v1::READ_WRITE_LOCK; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;
  ApplyResult EndSession(uint64_t session_id, const ApplyContext& ctx) override;
  absl::Time NextDeadline() const override;
  ApplyResult Advance(const ApplyContext& ctx) override;
  void Cancel(uint64_t token) override { queue_.Cancel(token); }
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // "read by 2", "written (fence 9)" or "free", with ", 1 waiting";
  // holders: the grants in grant order ("read" or "write", fence);
  // waiters: the mode each asks for.
  void Describe(v1::PrimitiveInfo& out) const override;
  bool FenceHolds(int64_t fence) const override {
    return fences_.contains(fence);
  }
  int64_t NewestFence() const override {
    return fences_.empty() ? 0 : fences_.rbegin()->first;
  }

  // The mode held now: UNSPECIFIED when free.
  v1::LockMode mode() const;
  int64_t readers() const { return readers_; }
  // The writer's fence, 0 without a writer.
  int64_t writer_fence() const;
  size_t waiters() const { return queue_.size(); }
  size_t grants() const { return grants_.size(); }

 private:
  // (session, mode, fence, id): a session's grants, oldest first per mode.
  using OwnedKey = std::tuple<uint64_t, int, int64_t, uint64_t>;

  ApplyResult ApplyAcquire(const v1::Request& request, const ApplyContext& ctx,
                           v1::Response& response);
  ApplyResult ApplyRelease(const v1::Request& request, const ApplyContext& ctx,
                           v1::Response& response);
  // Whether a request for `mode` could be granted now, ignoring the queue.
  bool Compatible(v1::LockMode mode) const;
  // Whether the waiter at the head of the queue could be granted now.
  bool HeadGrantable() const;
  // Adds a grant at ctx.revision and its INSERTED event.
  void AddGrant(uint64_t session, v1::LockMode mode, const ApplyContext& ctx,
                ApplyResult& result);
  // Removes grant `id` and adds its REMOVED event.
  void RemoveGrant(uint64_t id, const ApplyContext& ctx, ApplyResult& result);
  // Grants the head of the queue while it can be granted (a writer alone, or
  // the run of readers up to the next writer), answering each waiter.
  void GrantWaiting(const ApplyContext& ctx, ApplyResult& result);
  // For messages: "the writer's fence is 5", "it has 2 readers", "it is
  // free".
  std::string Held() const;
  // Puts the current state (mode, readers, writer fence) into `out`.
  void FillState(v1::ReadWriteLockResponse& out) const;
  // Adds the event of `type` for `grant`, with the mode and readers now.
  void Describe(v1::WatchEvent::Type type, const Grant& grant,
                const ApplyContext& ctx, ApplyResult& result) const;
  // Adds grant `id` to every index (no event).
  void Insert(uint64_t id, const Grant& grant);

  std::string name_;  // for messages; set by the first Apply
  absl::btree_map<uint64_t, Grant> grants_;  // by id, in grant order
  absl::btree_set<OwnedKey> owned_;
  absl::btree_map<int64_t, int64_t> fences_;  // fence -> grants holding it
  int64_t readers_ = 0;
  uint64_t writer_ = 0;  // the writer's grant id; 0 without one
  uint64_t next_grant_ = 1;
  WaitQueue queue_;  // amount: the LockMode asked for
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_READ_WRITE_LOCK_H_
