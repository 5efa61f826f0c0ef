// AccessControl: the access policy in force, replaced whole on reload.
//
//   AccessControl control;                  // no policy: everything allowed
//   control.Set(std::make_shared<const AccessPolicy>(std::move(policy)));
//   std::shared_ptr<const AccessPolicy> policy = control.Current();
//   if (policy != nullptr) status = policy->Check(...);
//
// A reader takes the current policy once and checks against that copy: a
// reload that lands meanwhile never shows it half a policy, and the old
// policy lives on until its last reader lets it go.
//
// Thread-safety: thread-safe; Current and Set may be called from any
// number of threads at once.
#ifndef ATOMIX_BROKER_CORE_ACCESS_CONTROL_H_
#define ATOMIX_BROKER_CORE_ACCESS_CONTROL_H_

#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "broker-sim/src/core/access_policy.h"

namespace atomix::broker {

class AccessControl {
 public:
  // The policy in force; null when there is none (everything is allowed).
  std::shared_ptr<const AccessPolicy> Current() const {
    absl::ReaderMutexLock lock(&mu_);
    return policy_;
  }

  // Puts `policy` in force (null: none) for every check from now on.
  void Set(std::shared_ptr<const AccessPolicy> policy) {
    absl::MutexLock lock(&mu_);
    policy_.swap(policy);
    // `policy` now holds the old one, which dies outside the lock (or
    // later, with the last reader that took it).
  }

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const AccessPolicy> policy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CORE_ACCESS_CONTROL_H_
