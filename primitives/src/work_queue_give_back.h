// Internal to primitives/: what the client core sends when a waiting work
// queue take is answered after its caller gave up.
//
// Thread-safety: a pure function; the GiveBack it returns is immutable.
#ifndef ATOMIX_PRIMITIVES_SRC_WORK_QUEUE_GIVE_BACK_H_
#define ATOMIX_PRIMITIVES_SRC_WORK_QUEUE_GIVE_BACK_H_

#include <string>

#include "sdk/src/give_back.h"

namespace atomix::internal {

// For a late answer that leased an item: the Release of exactly that lease
// (its id and fence), so the item goes back to the head of the queue at
// once instead of waiting for a visibility timeout or the session's end.
// Nothing for an error or an answer without an item.
GiveBack ReleaseLateLease(const std::string& name);

}  // namespace atomix::internal

#endif  // ATOMIX_PRIMITIVES_SRC_WORK_QUEUE_GIVE_BACK_H_
