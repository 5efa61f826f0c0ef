// Safety checkers for a latch and a barrier over a merged history of several
// processes, on CLOCK_MONOTONIC (one machine, one clock).
//
// LatchChecker, for one armed generation of count N:
// - no Await returns before N CountDowns were sent: an Await that returned
//   at time t saw at least N CountDowns whose send time is before t;
// - the count only moves by count-downs: answered CountDowns report
//   distinct counts in [0, N) (none counted twice), and the final count is
//   N - answered - k for some 0 <= k <= the CountDowns never answered (a
//   killed process's count-down is counted at most once, or not at all).
//
// BarrierChecker, for N parties: in every generation,
// - exactly N parties passed, with the arrival numbers 0 .. N-1 once each;
// - every party left after every party of that generation arrived: the
//   earliest answer time is after the latest send time.
// Both times bound the broker's own: a party is counted after it sent its
// Await and is answered before its answer arrives, so a violation seen here
// is one the broker committed.
//
//   LatchChecker latch(/*count=*/5);
//   latch.AddCountDown({.sent_ns = a, .answered_ns = b, .count_after = 4});
//   latch.AddAwait({.returned_ns = c});
//   EXPECT_EQ(latch.Check(/*final_count=*/0), std::nullopt);
//
// Thread-safety: none; fill and check from one thread.
#ifndef ATOMIX_TESTS_SUPPORT_RENDEZVOUS_CHECKER_H_
#define ATOMIX_TESTS_SUPPORT_RENDEZVOUS_CHECKER_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace atomix::testing {

class LatchChecker {
 public:
  struct CountDown {
    std::string who;  // for messages
    int64_t sent_ns = 0;
    int64_t answered_ns = 0;  // 0: never answered (its process was killed)
    int64_t count_after = -1;
  };
  struct Await {
    std::string who;
    int64_t returned_ns = 0;
  };

  explicit LatchChecker(int64_t count) : count_(count) {}
  void AddCountDown(CountDown c) { count_downs_.push_back(std::move(c)); }
  void AddAwait(Await a) { awaits_.push_back(std::move(a)); }
  size_t count_downs() const { return count_downs_.size(); }
  size_t awaits() const { return awaits_.size(); }

  // The first violation, described; nullopt if there is none.
  std::optional<std::string> Check(int64_t final_count) const {
    std::vector<int64_t> sent;
    std::set<int64_t> seen;
    int64_t answered = 0;
    for (const CountDown& c : count_downs_) {
      sent.push_back(c.sent_ns);
      if (c.answered_ns == 0) continue;
      ++answered;
      if (c.count_after < 0 || c.count_after >= count_) {
        return absl::StrCat(c.who, "'s count-down left count ", c.count_after, ", outside [0, ",
                            count_, ")");
      }
      if (!seen.insert(c.count_after).second) {
        return absl::StrCat(c.who, "'s count-down left count ", c.count_after,
                            ", as another one did: a count-down was counted twice");
      }
    }
    const int64_t unanswered = static_cast<int64_t>(count_downs_.size()) - answered;
    if (final_count > count_ - answered || final_count < count_ - answered - unanswered) {
      return absl::StrCat("final count ", final_count, " after ", answered, " answered and ",
                          unanswered, " unanswered count-downs from ", count_);
    }
    std::sort(sent.begin(), sent.end());
    for (const Await& a : awaits_) {
      const int64_t before =
          std::lower_bound(sent.begin(), sent.end(), a.returned_ns) - sent.begin();
      if (before < count_) {
        return absl::StrCat(a.who, "'s await returned when only ", before, " of ", count_,
                            " count-downs were sent");
      }
    }
    return std::nullopt;
  }

 private:
  int64_t count_;
  std::vector<CountDown> count_downs_;
  std::vector<Await> awaits_;
};

class BarrierChecker {
 public:
  struct Pass {
    std::string who;  // for messages
    int64_t generation = 0;
    int64_t arrival = 0;
    int64_t sent_ns = 0;      // when its Await was sent
    int64_t answered_ns = 0;  // when its answer arrived
  };

  explicit BarrierChecker(int64_t parties) : parties_(parties) {}
  void Add(Pass pass) { passes_.push_back(std::move(pass)); }
  size_t size() const { return passes_.size(); }
  size_t generations() const { return ByGeneration().size(); }

  // The first violation, described; nullopt if there is none.
  std::optional<std::string> Check() const {
    for (const auto& [generation, passes] : ByGeneration()) {
      if (static_cast<int64_t>(passes.size()) != parties_) {
        return absl::StrCat("generation ", generation, " has ", passes.size(), " passes, not ",
                            parties_);
      }
      std::set<int64_t> arrivals;
      const Pass* last_in = passes.front();
      const Pass* first_out = passes.front();
      for (const Pass* p : passes) {
        if (p->arrival < 0 || p->arrival >= parties_ || !arrivals.insert(p->arrival).second) {
          return absl::StrCat("generation ", generation, ": ", p->who, " has arrival ", p->arrival,
                              " (repeated or outside 0 .. ", parties_ - 1, ")");
        }
        if (p->sent_ns > last_in->sent_ns) last_in = p;
        if (p->answered_ns < first_out->answered_ns) first_out = p;
      }
      if (first_out->answered_ns <= last_in->sent_ns) {
        return absl::StrCat("generation ", generation, ": ", first_out->who, " left at ",
                            first_out->answered_ns, " before ", last_in->who, " arrived at ",
                            last_in->sent_ns);
      }
    }
    return std::nullopt;
  }

 private:
  std::map<int64_t, std::vector<const Pass*>> ByGeneration() const {
    std::map<int64_t, std::vector<const Pass*>> out;
    for (const Pass& p : passes_) out[p.generation].push_back(&p);
    return out;
  }

  int64_t parties_;
  std::vector<Pass> passes_;
};

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_RENDEZVOUS_CHECKER_H_
