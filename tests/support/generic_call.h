// Raw-bytes gRPC calls for tests that must speak to the broker the way a
// foreign tool would (malformed payloads, health checks).
//
// Thread-safety: a free function; safe from any thread.
#ifndef ATOMIX_TESTS_SUPPORT_GENERIC_CALL_H_
#define ATOMIX_TESTS_SUPPORT_GENERIC_CALL_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace atomix::testing {

// The bytes of a ByteBuffer, concatenated.
inline std::string BufferBytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// Sends `request` as the serialized message of unary `method` and waits for
// the answer (10 s deadline). The response bytes go to `response`.
inline grpc::Status GenericUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                                     const std::string& method, const std::string& request,
                                     std::string* response) {
  grpc::GenericStub stub(channel);
  grpc::Slice slice(request);
  grpc::ByteBuffer req(&slice, 1);
  grpc::ByteBuffer resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp, [&](grpc::Status s) {
    std::lock_guard<std::mutex> l(mu);
    status = std::move(s);
    done = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return done; });
  if (response != nullptr) *response = BufferBytes(resp);
  return status;
}

// What a raw streaming call returned: every message the broker sent, as
// bytes, and how the call ended.
struct GenericStreamResult {
  grpc::Status status;
  std::vector<std::string> messages;
};

// Calls streaming method `method` with `messages` as raw bytes, one write
// at a time, half-closes, and reads everything until the broker ends the
// call (at most `deadline` in all). The messages should be small: they are
// all written before anything is read, which large ones could stall on
// flow control.
inline GenericStreamResult GenericStreamExchange(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const std::vector<std::string>& messages,
    std::chrono::seconds deadline = std::chrono::seconds(10)) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  auto call = stub.PrepareCall(&ctx, method, &cq);
  // One operation at a time, so the next completion is always the one we
  // asked for.
  auto await = [&cq] {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok;
  };
  call->StartCall(nullptr);
  bool alive = await();
  for (const std::string& m : messages) {
    if (!alive) break;
    grpc::Slice slice(m);
    grpc::ByteBuffer buf(&slice, 1);
    call->Write(buf, nullptr);
    alive = await();
  }
  if (alive) {
    call->WritesDone(nullptr);
    await();
  }
  GenericStreamResult result;
  grpc::ByteBuffer incoming;
  for (;;) {
    call->Read(&incoming, nullptr);
    if (!await()) break;
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (incoming.Dump(&slices).ok()) {
      for (const grpc::Slice& slice : slices) {
        bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
    }
    result.messages.push_back(std::move(bytes));
  }
  call->Finish(&result.status, nullptr);
  await();
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  return result;
}

// As GenericStreamExchange, keeping only how the call ended.
inline grpc::Status GenericStreamCall(const std::shared_ptr<grpc::Channel>& channel,
                                      const std::string& method,
                                      const std::vector<std::string>& messages) {
  return GenericStreamExchange(channel, method, messages).status;
}

}  // namespace atomix::testing

#endif  // ATOMIX_TESTS_SUPPORT_GENERIC_CALL_H_
