// MixedLoad: callers that increment a counter, compare-and-set map keys of
// their own, take a lock and enter an election, recording every outcome,
// for tests that kill brokers or etcd members underneath them. Check then
// asserts (with gtest failures) that the history is sound:
//   - the counter history is linearizable (increment_history.h): no
//     acknowledged increment lost, none applied twice;
//   - every map key holds its last acknowledged value, or the one write
//     after it whose outcome was unknown (never anything half applied);
//   - lock fences are unique and rise in real-time order, and election
//     terms never go back in real-time order.
//
//   MixedLoad load(clients, 16);   // 16 threads per client
//   ... kill things ...
//   load.Stop();
//   load.Check(reader);
//
// Thread-safety: one thread drives a MixedLoad; its callers run on threads
// of their own.
#ifndef ATOMIX_TESTS_SUPPORT_MIXED_LOAD_H_
#define ATOMIX_TESTS_SUPPORT_MIXED_LOAD_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "atomix/atomix.h"
#include "tests/support/increment_history.h"

namespace atomix::testing {

class MixedLoad {
 public:
  // Starts threads_per_client callers on each client.
  MixedLoad(std::vector<Client> clients, int threads_per_client);
  ~MixedLoad() { Stop(); }

  // The highest counter value acknowledged so far.
  int64_t max_acked() const { return max_acked_.load(); }
  // Acknowledged operations so far (of every kind), in all, and by the
  // callers of clients[client].
  int64_t acked() const { return acked_.load(); }
  int64_t acked(int client) const { return by_client_[client].load(); }
  // Stops and joins the callers.
  void Stop();
  // Checks the history against the state `reader` reads now.
  void Check(const Client& reader);

 private:
  struct Grant {
    int64_t invoke = 0;
    int64_t complete = 0;
    int64_t fence = 0;
  };
  struct TermSeen {
    int64_t invoke = 0;
    int64_t complete = 0;
    int64_t term = 0;
  };
  struct KeyHistory {
    int64_t acked = 0;      // last acknowledged value written
    int64_t attempted = 0;  // last value tried
  };
  void Run(int t);

  std::vector<Client> clients_;
  int threads_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> max_acked_{0};
  std::atomic<int64_t> acked_{0};
  std::unique_ptr<std::atomic<int64_t>[]> by_client_;
  std::atomic<int> setup_errors_{0};
  std::mutex mu_;
  std::vector<Increment> increments_;
  std::vector<Grant> grants_;
  std::vector<TermSeen> terms_;
  std::vector<KeyHistory> keys_;
  std::vector<std::thread> running_;
};

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_MIXED_LOAD_H_
