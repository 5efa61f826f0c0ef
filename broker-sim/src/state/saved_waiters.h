// CheckSavedWaiters: whether the waiters of a saved WaitQueue are consistent
// before WaitQueue::Load takes them (it checks nothing itself).
//
// Thread-safety: a stateless function.
#ifndef ATOMIX_BROKER_STATE_SAVED_WAITERS_H_
#define ATOMIX_BROKER_STATE_SAVED_WAITERS_H_

#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "atomix/log/v1/snapshot.pb.h"

namespace atomix::broker {

// DATA_LOSS naming `type` unless the orders strictly increase and stay below
// `next_order`, the tokens are unique and, if `need_session`, each waiter
// has a session.
inline absl::Status CheckSavedWaiters(
    const google::protobuf::RepeatedPtrField<atomix::log::v1::Waiter>& waiters,
    uint64_t next_order, bool need_session, absl::string_view type) {
  absl::flat_hash_set<uint64_t> tokens;
  uint64_t min_order = 0;
  for (const atomix::log::v1::Waiter& w : waiters) {
    if (w.order() < min_order || w.order() >= next_order) {
      return absl::DataLossError(
          absl::StrCat("the saved ", type, " holds waiter order ", w.order(),
                       " out of sequence (next order ", next_order, ")"));
    }
    min_order = w.order() + 1;
    if (!tokens.insert(w.token()).second) {
      return absl::DataLossError(absl::StrCat(
          "the saved ", type, " holds waiter token ", w.token(), " twice"));
    }
    if (need_session && w.session() == 0) {
      return absl::DataLossError(absl::StrCat(
          "the saved ", type, " holds a waiter without a session"));
    }
  }
  return absl::OkStatus();
}

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_STATE_SAVED_WAITERS_H_
