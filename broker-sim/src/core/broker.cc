// The broker core.
#include "broker-sim/src/core/broker.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "broker-sim/src/core/validate.h"
#include "broker-sim/src/state/errors.h"

#ifndef ATOMIX_VERSION
#define ATOMIX_VERSION "0.0.0"
#endif

namespace atomix::broker {

std::string NewBrokerId() {
  absl::BitGen gen;  // seeded from the OS entropy source
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
}

uint64_t NewSessionIdBase() {
  absl::BitGen gen;
  return absl::Uniform<uint64_t>(gen, uint64_t{1} << 32, uint64_t{1} << 62);
}

Broker::Broker(std::unique_ptr<Store> store, Limits limits,
               std::string broker_id)
    : store_(std::move(store)),
      limits_(limits),
      broker_id_(broker_id.empty() ? NewBrokerId() : std::move(broker_id)) {}

void Broker::Execute(const v1::RequestBatch& batch, v1::ResponseBatch& out) {
  std::vector<Completion> ignored;
  Execute(batch, 0, out, ignored);
}

void Broker::Execute(const v1::RequestBatch& batch, uint64_t origin,
                     v1::ResponseBatch& out,
                     std::vector<Completion>& completions) {
  const int n = batch.requests_size();
  const int first = out.responses_size();
  out.mutable_responses()->Reserve(first + n);
  std::vector<const v1::Request*> valid;
  std::vector<v1::Response*> valid_responses;
  std::vector<v1::Response*> invalid_responses;
  valid.reserve(n);
  valid_responses.reserve(n);
  for (const v1::Request& request : batch.requests()) {
    v1::Response* response = out.add_responses();
    response->set_id(request.id());
    absl::Status status = ValidateRequest(request, limits_);
    if (status.ok()) {
      valid.push_back(&request);
      valid_responses.push_back(response);
    } else {
      SetError(*response, status.code(), std::string(status.message()));
      invalid_responses.push_back(response);
    }
  }
  StoreResult result;
  if (!valid.empty()) store_->Apply(valid, valid_responses, origin, result);
  // Every answer echoes its request's id, whatever a state machine did to the
  // response.
  for (size_t i = 0; i < valid.size(); ++i) valid_responses[i]->set_id(valid[i]->id());
  if (!invalid_responses.empty()) {
    const int64_t revision = store_->revision();
    for (v1::Response* response : invalid_responses) {
      response->set_revision(revision);
    }
  }
  if (!result.deferred.empty()) {
    // Drop the slots of waiting requests, keeping the others in order.
    absl::flat_hash_set<const v1::Response*> deferred;
    for (size_t i : result.deferred) deferred.insert(valid_responses[i]);
    auto* responses = out.mutable_responses();
    int kept = first;
    for (int i = first; i < responses->size(); ++i) {
      if (deferred.contains(&responses->Get(i))) continue;
      if (kept != i) responses->SwapElements(kept, i);
      ++kept;
    }
    while (responses->size() > kept) responses->RemoveLast();
  }
  for (Completion& completion : result.completions) {
    completions.push_back(std::move(completion));
  }
}

v1::Response Broker::Execute(const v1::Request& request) {
  v1::Response response;
  std::vector<Completion> ignored;
  Execute(request, 0, response, ignored);
  return response;
}

bool Broker::Execute(const v1::Request& request, uint64_t origin,
                     v1::Response& response,
                     std::vector<Completion>& completions) {
  response.set_id(request.id());
  absl::Status status = ValidateRequest(request, limits_);
  if (!status.ok()) {
    SetError(response, status.code(), std::string(status.message()));
    response.set_revision(store_->revision());
    return true;
  }
  const v1::Request* requests[] = {&request};
  v1::Response* responses[] = {&response};
  StoreResult result;
  store_->Apply(requests, responses, origin, result);
  response.set_id(request.id());
  for (Completion& completion : result.completions) {
    completions.push_back(std::move(completion));
  }
  return result.deferred.empty();
}

void Broker::Tick(absl::Time now, std::vector<Completion>& completions) {
  StoreResult result;
  store_->Tick(now, result);
  for (Completion& completion : result.completions) {
    completions.push_back(std::move(completion));
  }
}

void Broker::Cancel(uint64_t origin) { store_->Cancel(origin); }

void Broker::ExpireAllSessions(std::vector<Completion>& completions) {
  StoreResult result;
  store_->ExpireAllSessions(result);
  for (Completion& completion : result.completions) {
    completions.push_back(std::move(completion));
  }
}

v1::BrokerInfo Broker::Info() const {
  v1::BrokerInfo info;
  info.set_broker_id(broker_id_);
  info.set_revision(store_->revision());
  info.set_max_value_bytes(limits_.max_value_bytes);
  info.set_max_key_bytes(limits_.max_key_bytes);
  info.set_version(ATOMIX_VERSION);
  info.set_store(std::string(store_->kind()));
  return info;
}

}  // namespace atomix::broker
