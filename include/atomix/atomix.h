// The whole public API of the atomix SDK in one include.
//
//   #include "atomix/atomix.h"
//
//   auto jobs = atomix::GetCounter("jobs");
//   auto config = atomix::GetMap<std::string, std::string>("config");
//   auto leader = atomix::GetValue<std::string>("leader");
//   auto online = atomix::GetSet<std::string>("online");
//   auto writer = atomix::GetLock("db-writer");
//   auto scheduler = atomix::GetElection("scheduler");
//   auto queue = atomix::GetList<std::string>("work");      // PopFront() for workers
//   auto quotas = atomix::GetCounterMap<std::string>("quota");
//   atomix::Transaction().IfCounter(*jobs, 0).Put(*config, "state", "idle").Commit();
//   auto changes = config->Watch();   // a Channel of MapEvents (atomix/watch.h)
//
// Every call returns absl::Status or absl::StatusOr<T> (codes in
// atomix/status.h) and takes CallOptions, or an options struct derived from
// it, as its last argument.
//
// Thread-safety: see each header; every handle is safe to share between
// threads.
#ifndef ATOMIX_ATOMIX_H_
#define ATOMIX_ATOMIX_H_

#include "atomix/barrier.h"
#include "atomix/call_options.h"
#include "atomix/client.h"
#include "atomix/codec.h"
#include "atomix/counter.h"
#include "atomix/counter_map.h"
#include "atomix/election.h"
#include "atomix/fence_validator.h"
#include "atomix/future.h"
#include "atomix/indexed_map.h"
#include "atomix/latch.h"
#include "atomix/list.h"
#include "atomix/lock.h"
#include "atomix/map.h"
#include "atomix/multi_map.h"
#include "atomix/options.h"
#include "atomix/prefix_lock.h"
#include "atomix/read_write_lock.h"
#include "atomix/semaphore.h"
#include "atomix/set.h"
#include "atomix/status.h"
#include "atomix/stream_range.h"
#include "atomix/transaction.h"
#include "atomix/value.h"
#include "atomix/versioned.h"
#include "atomix/watch.h"
#include "atomix/work_queue.h"

#endif  // ATOMIX_ATOMIX_H_
