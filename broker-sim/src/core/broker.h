// The broker core: validates requests and applies them to the Store. It knows
// nothing of gRPC; the server front (server/) feeds it batches.
//
// Thread-safety: Execute() may be called from any number of threads; each
// batch is applied atomically and in order by the Store.
#ifndef ATOMIX_BROKER_CORE_BROKER_H_
#define ATOMIX_BROKER_CORE_BROKER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/store/store.h"

namespace atomix::broker {

struct Limits {
  int64_t max_value_bytes = 1 << 20;  // --max-value-bytes
  int64_t max_key_bytes = 4096;
  int64_t max_name_bytes = 256;
  uint32_t default_page_size = 1000;
  uint32_t max_page_size = 10000;
  int64_t max_page_bytes = 1 << 20;
};

class Broker {
 public:
  Broker(std::unique_ptr<Store> store, Limits limits);

  // Validates each request (bad ones get an INVALID_ARGUMENT response and
  // touch nothing), applies the valid ones to the store in order, and appends
  // one response per request to `out`, in request order.
  void Execute(const v1::RequestBatch& batch, v1::ResponseBatch& out);
  v1::Response Execute(const v1::Request& request);

  // What the broker tells a client when a stream opens.
  v1::BrokerInfo Info() const;

  const Limits& limits() const { return limits_; }
  Store& store() { return *store_; }

 private:
  std::unique_ptr<Store> store_;
  Limits limits_;
  std::string broker_id_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CORE_BROKER_H_
