// DeliveryLedger: no work item lost, none invented, none finished twice.
//
// A work queue test records every id it pushed, every delivery consumers
// saw (id, deliveries count) and every ack the broker accepted. Check()
// then holds the queue to its promise:
// - every pushed id was acked exactly once (none lost, none acked twice);
// - no id was acked or delivered that was never pushed;
// - an item's deliveries counts never repeat: each lease is a new delivery
//   (gaps are fine: a lease given back by a take that gave up is never
//   seen).
// Redeliveries (deliveries > 1) are counted for the report, not refused:
// they are how the queue keeps items whose consumer died.
//
//   DeliveryLedger ledger;
//   ledger.Pushed(id);
//   ledger.Delivered(id, deliveries);
//   ledger.Acked(id);
//   EXPECT_EQ(ledger.Check(), std::nullopt);
//
// Thread-safety: none; fill and check from one thread.
#ifndef ATOMIX_TESTS_SUPPORT_DELIVERY_LEDGER_H_
#define ATOMIX_TESTS_SUPPORT_DELIVERY_LEDGER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace atomix::testing {

class DeliveryLedger {
 public:
  void Pushed(int64_t id) { ++pushed_[id]; }
  void Delivered(int64_t id, int64_t deliveries) { delivered_[id].push_back(deliveries); }
  void Acked(int64_t id) { ++acked_[id]; }

  // Deliveries beyond each item's first.
  int64_t redeliveries() const {
    int64_t n = 0;
    for (const auto& [id, counts] : delivered_) n += static_cast<int64_t>(counts.size()) - 1;
    return n;
  }
  int64_t deliveries() const {
    int64_t n = 0;
    for (const auto& [id, counts] : delivered_) n += static_cast<int64_t>(counts.size());
    return n;
  }
  size_t pushed() const { return pushed_.size(); }

  // The first violation, described; nullopt if there is none.
  std::optional<std::string> Check() const {
    for (const auto& [id, times] : pushed_) {
      if (times != 1) return absl::StrCat("item ", id, " was pushed ", times, " times");
      auto acked = acked_.find(id);
      if (acked == acked_.end()) return absl::StrCat("item ", id, " was lost: never acked");
      if (acked->second != 1) {
        return absl::StrCat("item ", id, " was acked ", acked->second, " times");
      }
    }
    for (const auto& [id, times] : acked_) {
      if (!pushed_.contains(id)) return absl::StrCat("item ", id, " was acked, never pushed");
    }
    for (const auto& [id, counts] : delivered_) {
      if (!pushed_.contains(id)) return absl::StrCat("item ", id, " was delivered, never pushed");
      std::set<int64_t> seen;
      for (int64_t d : counts) {
        if (d < 1 || !seen.insert(d).second) {
          return absl::StrCat("item ", id, " was delivered as delivery ", d,
                              " twice or out of range");
        }
      }
    }
    return std::nullopt;
  }

 private:
  std::map<int64_t, int64_t> pushed_;
  std::map<int64_t, std::vector<int64_t>> delivered_;
  std::map<int64_t, int64_t> acked_;
};

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_DELIVERY_LEDGER_H_
