// Internal: what a blocking request leaves behind when its caller gives up.
//
// A blocking request (a lock acquire) may be granted by the broker after its
// caller stopped waiting: its deadline passed or it was cancelled while the
// answer was on its way. The caller is gone, so nobody would ever use or
// return the grant. A GiveBack turns that late answer into the request that
// hands the grant back (for a lock: Release with IfVersion(fence)), or into
// nothing when the answer granted nothing. Each blocking primitive supplies
// one; the transport runs it.
//
// Thread-safety: a GiveBack must be safe to call from any thread once.
#ifndef ATOMIX_SDK_SRC_GIVE_BACK_H_
#define ATOMIX_SDK_SRC_GIVE_BACK_H_

#include <functional>
#include <optional>

#include "atomix/v1/broker.pb.h"

namespace atomix::internal {

using GiveBack = std::function<std::optional<v1::Request>(const v1::Response& late)>;

}  // namespace atomix::internal

#endif  // ATOMIX_SDK_SRC_GIVE_BACK_H_
