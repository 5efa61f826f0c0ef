// The broker core: validates requests and applies them to the Store. It knows
// nothing of gRPC; the server front (server/) feeds it batches.
//
//   Broker broker(std::make_unique<MemoryStore>(limits), limits);
//   v1::ResponseBatch out;
//   broker.Execute(batch, out);  // one response per request, in order
//
// Thread-safety: thread-safe. Execute() may be called from any number of
// threads; each batch is applied atomically and in order by the Store.
#ifndef ATOMIX_BROKER_CORE_BROKER_H_
#define ATOMIX_BROKER_CORE_BROKER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "atomix/v1/broker.pb.h"
#include "broker-sim/src/state/limits.h"
#include "broker-sim/src/store/store.h"

namespace atomix::broker {

class Broker {
 public:
  Broker(std::unique_ptr<Store> store, Limits limits);

  // Validates each request (bad ones get an INVALID_ARGUMENT response and
  // touch nothing), applies the valid ones to the store in order, and appends
  // one response per request to `out`, in request order. Every response
  // echoes its request's id.
  void Execute(const v1::RequestBatch& batch, v1::ResponseBatch& out);
  v1::Response Execute(const v1::Request& request);

  // What the broker tells a client when a stream opens.
  v1::BrokerInfo Info() const;

  // A random 128-bit identifier of this broker incarnation, in hex.
  const std::string& id() const { return broker_id_; }
  const Limits& limits() const { return limits_; }
  Store& store() { return *store_; }

 private:
  std::unique_ptr<Store> store_;
  Limits limits_;
  std::string broker_id_;
};

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_CORE_BROKER_H_
