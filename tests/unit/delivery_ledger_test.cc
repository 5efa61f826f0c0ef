// DeliveryLedger catches lost, invented and doubly acked items, and repeated
// delivery numbers; it accepts redeliveries.
#include "tests/support/delivery_ledger.h"

#include "gtest/gtest.h"

namespace atomix::testing {
namespace {

DeliveryLedger Healthy() {
  DeliveryLedger ledger;
  for (int64_t id = 1; id <= 3; ++id) {
    ledger.Pushed(id);
    ledger.Delivered(id, 1);
  }
  ledger.Delivered(2, 2);  // its first consumer died
  ledger.Delivered(2, 4);  // a lease given back in between was never seen
  for (int64_t id = 1; id <= 3; ++id) ledger.Acked(id);
  return ledger;
}

TEST(DeliveryLedger, AcceptsRedeliveriesAndCountsThem) {
  DeliveryLedger ledger = Healthy();
  EXPECT_EQ(ledger.Check(), std::nullopt);
  EXPECT_EQ(ledger.pushed(), 3u);
  EXPECT_EQ(ledger.deliveries(), 5);
  EXPECT_EQ(ledger.redeliveries(), 2);
}

TEST(DeliveryLedger, CatchesALostItem) {
  DeliveryLedger ledger = Healthy();
  ledger.Pushed(4);
  ledger.Delivered(4, 1);
  EXPECT_EQ(ledger.Check(), "item 4 was lost: never acked");
}

TEST(DeliveryLedger, CatchesAnItemAckedTwice) {
  DeliveryLedger ledger = Healthy();
  ledger.Acked(3);
  EXPECT_EQ(ledger.Check(), "item 3 was acked 2 times");
}

TEST(DeliveryLedger, CatchesAnInventedItem) {
  DeliveryLedger acked = Healthy();
  acked.Acked(9);
  EXPECT_EQ(acked.Check(), "item 9 was acked, never pushed");
  DeliveryLedger delivered = Healthy();
  delivered.Delivered(8, 1);
  EXPECT_EQ(delivered.Check(), "item 8 was delivered, never pushed");
}

TEST(DeliveryLedger, CatchesARepeatedDeliveryNumber) {
  DeliveryLedger ledger = Healthy();
  ledger.Delivered(1, 1);
  EXPECT_EQ(ledger.Check(), "item 1 was delivered as delivery 1 twice or out of range");
}

TEST(DeliveryLedger, CatchesAnItemPushedTwice) {
  DeliveryLedger ledger = Healthy();
  ledger.Pushed(1);
  EXPECT_EQ(ledger.Check(), "item 1 was pushed 2 times");
}

}  // namespace
}  // namespace atomix::testing
