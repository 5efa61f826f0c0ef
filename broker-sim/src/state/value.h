// ValueState: one versioned byte-string value that may be absent. Set and
// Insert are writes and always take a new revision; Delete takes one when it
// removes the value. Failed preconditions change nothing. Writes may be
// ephemeral (gone when EndSession names the writer's session) or carry a TTL
// (gone when Advance runs at or after the expiry).
//
// Watch events carry the value as an entry with an empty key: a write of an
// absent value is INSERTED, of a present one UPDATED; Delete and the end of
// an ephemeral value's session are REMOVED, a TTL expiry EXPIRED.
//
// Thread-safety: none; see state_machine.h.
#ifndef ATOMIX_BROKER_STATE_VALUE_H_
#define ATOMIX_BROKER_STATE_VALUE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "broker-sim/src/state/state_machine.h"

namespace atomix::broker {

class ValueState final : public StateMachine {
 public:
  v1::PrimitiveType type() const override { return v1::VALUE; }
  ApplyResult Apply(const v1::Request& request, const ApplyContext& ctx,
                    v1::Response& response) override;

  ApplyResult EndSession(uint64_t session_id,
                         const ApplyContext& ctx) override;
  absl::Time NextDeadline() const override;
  ApplyResult Advance(const ApplyContext& ctx) override;
  void Snapshot(const WatchFilter& filter,
                v1::WatchSnapshot& out) const override;
  void Save(atomix::log::v1::PrimitiveSave& out) const override;
  absl::Status Load(const atomix::log::v1::PrimitiveSave& in) override;
  // "\"hello\" (version 17)" or "absent"; an ephemeral value's session
  // holds "value".
  void Describe(v1::PrimitiveInfo& out) const override;

  bool present() const { return present_; }
  const std::string& value() const { return value_; }
  int64_t version() const { return version_; }

 private:
  // Checks an optional if_version against the current value; on failure
  // fills the error (NOT_FOUND if absent, FAILED_PRECONDITION on mismatch).
  bool CheckVersion(const v1::Request& request, bool has_if_version,
                    int64_t if_version, v1::Response& response) const;
  // Stores `value` at ctx.revision (an INSERTED or UPDATED event).
  ApplyResult Write(std::string value, uint64_t owner, int64_t ttl_ms,
                    const ApplyContext& ctx, v1::Response& response);
  // Makes the value absent with a `type` event carrying it as previous.
  void TakeRemoved(ApplyResult& result, v1::WatchEvent::Type type,
                   const ApplyContext& ctx);
  // Makes the value absent.
  void Clear();

  bool present_ = false;
  std::string value_;
  int64_t version_ = 0;
  uint64_t session_ = 0;  // owner of an ephemeral value; 0 if permanent
  absl::Time expires_ = absl::InfiniteFuture();
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_VALUE_H_
