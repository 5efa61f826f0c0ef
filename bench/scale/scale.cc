// atomix-scale: holds many sessions, watches and primitives against one
// running atomix-broker, over the raw generated gRPC stubs (no SDK), so that
// one process can hold 10,000 sessions or 100,000 watches cheaply. It is
// driven by bench/scale_curves.sh, which starts the broker and reads its
// memory and CPU from /proc; this tool only makes the load and times what it
// sees. Every mode prints its results as "key value" lines on stdout.
//
//   atomix-scale --broker 127.0.0.1:PORT --mode fill --entries 1000000
//                [--value-bytes 100] [--batch 500] [--window 4000]
//     Puts keys "k%07d" (0..N-1) with values of --value-bytes bytes into one
//     map over one Stream, --batch puts per RequestBatch and at most
//     --window unanswered, then exits.
//
//   atomix-scale --mode sessions --sessions 10000 --streams 4 --ttl-ms 10000
//                --ready-file R --go-file G [--hold-s 300]
//     Opens N sessions (SessionOpen with a random nonce) over --streams
//     Streams, each on a connection of its own, and keeps every one alive:
//     each stream sends the keep-alives of its sessions every TTL/3, in
//     RequestBatches of --batch. Creates R once all are open, and stops once
//     G exists (or after --hold-s).
//
//   atomix-scale --mode watch --watchers 100000 --keys 1000 [--maps 1]
//                [--connections 10] [--inflight 8] [--duration 10]
//                --ready-file R --go-file G
//     Opens N Map watches (Broker.Watch with `key` set), watcher i on key
//     i % keys, keys spread over --maps maps (1: all keys in one map),
//     multiplexed over --connections HTTP/2 connections and read with the
//     completion-queue API by --cq-threads threads. Creates R once every
//     watch has its header, waits for G, then writes for --duration seconds
//     from a connection of its own, keys in turn, keeping --inflight writes
//     whose events have not yet reached every watcher of their key. Reports
//     deliveries per second and the time from a write being sent to its
//     last watcher receiving it, and checks that every watcher got every
//     write of its key exactly once, in revision order (exit 1 otherwise).
//
//   atomix-scale --mode counters --counters 10000 --inflight 64
//                [--duration 10] [--warmup 2]
//     Creates counters "c%06d" (0..N-1) with one increment each, then keeps
//     --inflight increments of uniformly random counters in flight on one
//     Stream (each answer is replaced by a new request in the next batch)
//     and reports ops/s and latency over --duration after --warmup.
//
// Exit status: 0 on success, 1 if any request failed or a check did not
// hold, 2 on bad flags.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "atomix/v1/broker.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace {

namespace v1 = atomix::v1;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string broker = "127.0.0.1:5679";
  std::string mode;
  std::string ready_file;
  std::string go_file;
  double hold_s = 600;
  size_t batch = 500;
  size_t window = 4000;
  // fill
  int64_t entries = 100000;
  int value_bytes = 100;
  std::string map = "scale-map";
  // sessions
  int sessions = 1000;
  int streams = 4;
  int64_t ttl_ms = 10000;
  // watch
  int watchers = 1000;
  int keys = 1000;
  int maps = 1;
  int connections = 10;
  int cq_threads = 2;
  int open_window = 2000;
  // watch (writes in flight) and counters (increments in flight)
  int inflight = 0;
  double duration = 10;
  double warmup = 2;
  // counters
  int counters = 1;
  uint64_t seed = 1;
};

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

bool FileExists(const std::string& path) {
  struct stat st;
  return !path.empty() && stat(path.c_str(), &st) == 0;
}

void Touch(const std::string& path) {
  if (path.empty()) return;
  if (FILE* f = std::fopen(path.c_str(), "w")) std::fclose(f);
}

// Waits until `path` exists (true) or `limit` seconds pass (false).
bool WaitForFile(const std::string& path, double limit) {
  const auto until = Clock::now() + std::chrono::duration<double>(limit);
  while (!FileExists(path)) {
    if (path.empty() || Clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// A channel on a TCP connection of its own: gRPC shares a connection between
// channels with equal arguments, so each gets a distinct one.
std::shared_ptr<grpc::Channel> NewConnection(const std::string& target,
                                             int index) {
  grpc::ChannelArguments args;
  args.SetInt("atomix.scale.connection", index);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

// Percentile of sorted `v` (p in [0,1]); 0 if empty.
template <typename T>
T Percentile(const std::vector<T>& v, double p) {
  if (v.empty()) return T{};
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// One Broker.Stream: a reader thread hands every ResponseBatch to the
// current handler; writes are serialized.
class Pipe {
 public:
  using Handler = std::function<void(v1::ResponseBatch&)>;

  explicit Pipe(std::shared_ptr<grpc::Channel> channel)
      : stub_(v1::Broker::NewStub(std::move(channel))) {}

  ~Pipe() { Close(); }

  // Opens the stream and reads the broker's first message (BrokerInfo).
  bool Open(std::string& error) {
    stream_ = stub_->Stream(&context_);
    v1::ResponseBatch first;
    if (!stream_->Read(&first) || !first.has_info()) {
      error = stream_->Finish().error_message();
      if (error.empty()) error = "the stream ended before BrokerInfo";
      return false;
    }
    reader_ = std::thread([this] { ReadLoop(); });
    return true;
  }

  void SetHandler(Handler handler) {
    std::lock_guard<std::mutex> lock(handler_mu_);
    handler_ = std::move(handler);
  }

  bool Write(const v1::RequestBatch& batch) {
    std::lock_guard<std::mutex> lock(write_mu_);
    return stream_->Write(batch);
  }

  bool broken() const { return broken_.load(); }

  // Sends `n` requests made by `make(i, request)` in RequestBatches of
  // `batch`, with at most `window` unanswered; `each` sees every response
  // (on the reader thread). Request ids are assigned here. Returns once
  // all are answered; false if the stream broke first.
  bool Run(size_t n, size_t batch, size_t window,
           const std::function<void(size_t, v1::Request&)>& make,
           const std::function<void(const v1::Response&)>& each) {
    std::mutex mu;
    std::condition_variable cv;
    size_t outstanding = 0;
    SetHandler([&](v1::ResponseBatch& answers) {
      for (const v1::Response& r : answers.responses()) each(r);
      std::lock_guard<std::mutex> lock(mu);
      outstanding -= static_cast<size_t>(answers.responses_size());
      cv.notify_all();
    });
    bool ok = true;
    for (size_t i = 0; i < n && ok;) {
      const size_t count = std::min(batch, n - i);
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait_for(lock, std::chrono::seconds(60), [&] {
          return outstanding + count <= window || broken();
        });
        if (broken() || outstanding + count > window) {
          ok = false;
          break;
        }
        outstanding += count;
      }
      v1::RequestBatch out;
      for (size_t j = 0; j < count; ++j, ++i) {
        v1::Request* r = out.add_requests();
        make(i, *r);
        r->set_id(++next_id_);
      }
      if (!Write(out)) ok = false;
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, std::chrono::seconds(120),
                  [&] { return outstanding == 0 || broken(); });
      ok = ok && outstanding == 0;
    }
    SetHandler(nullptr);
    return ok;
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    if (stream_ == nullptr) return;
    {
      std::lock_guard<std::mutex> lock(write_mu_);
      stream_->WritesDone();
    }
    if (reader_.joinable()) reader_.join();
    stream_->Finish();
  }

 private:
  void ReadLoop() {
    v1::ResponseBatch batch;
    while (stream_->Read(&batch)) {
      std::lock_guard<std::mutex> lock(handler_mu_);
      if (handler_) handler_(batch);
      batch.Clear();
    }
    broken_ = true;
    std::lock_guard<std::mutex> lock(handler_mu_);
    if (handler_) {
      v1::ResponseBatch none;
      handler_(none);  // wakes a waiting Run
    }
  }

  std::unique_ptr<v1::Broker::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::RequestBatch, v1::ResponseBatch>>
      stream_;
  std::thread reader_;
  std::mutex write_mu_;
  std::mutex handler_mu_;
  Handler handler_;
  std::atomic<bool> broken_{false};
  uint64_t next_id_ = 0;
  bool closed_ = false;
};

std::string MapKey(int64_t i) {
  char key[32];
  std::snprintf(key, sizeof(key), "k%07lld", static_cast<long long>(i));
  return key;
}

std::string CounterName(int64_t i) {
  char name[32];
  std::snprintf(name, sizeof(name), "c%06lld", static_cast<long long>(i));
  return name;
}

// ---------------------------------------------------------------- fill

int Fill(const Options& o) {
  Pipe pipe(NewConnection(o.broker, 0));
  std::string error;
  if (!pipe.Open(error)) {
    std::fprintf(stderr, "fill: %s\n", error.c_str());
    return 1;
  }
  // Printable bytes that differ per entry, so nothing can share them.
  std::string value(static_cast<size_t>(o.value_bytes), 'v');
  std::atomic<int64_t> errors{0};
  std::string first_error;
  std::mutex error_mu;
  const auto start = Clock::now();
  const bool ok = pipe.Run(
      static_cast<size_t>(o.entries), o.batch, o.window,
      [&](size_t i, v1::Request& r) {
        r.set_type(v1::MAP);
        r.set_name(o.map);
        v1::MapPut* put = r.mutable_map()->mutable_put();
        put->set_key(MapKey(static_cast<int64_t>(i)));
        std::string v = value;
        for (size_t b = 0; b < v.size() && b < 8; ++b) {
          v[b] = static_cast<char>('a' + (i >> (3 * b)) % 26);
        }
        put->set_value(std::move(v));
      },
      [&](const v1::Response& r) {
        if (r.has_error()) {
          if (errors++ == 0) {
            std::lock_guard<std::mutex> lock(error_mu);
            first_error = r.error().message();
          }
        }
      });
  const double elapsed = Seconds(Clock::now() - start);
  pipe.Close();
  const int64_t raw = o.entries * (8 + o.value_bytes);
  std::printf("entries %lld\n", static_cast<long long>(o.entries));
  std::printf("raw_bytes %lld\n", static_cast<long long>(raw));
  std::printf("fill_s %.2f\n", elapsed);
  std::printf("puts_per_s %.0f\n", static_cast<double>(o.entries) / elapsed);
  std::printf("errors %lld\n", static_cast<long long>(errors.load()));
  if (!first_error.empty()) {
    std::fprintf(stderr, "fill: first error: %s\n", first_error.c_str());
  }
  return ok && errors == 0 ? 0 : 1;
}

// ---------------------------------------------------------------- sessions

int Sessions(const Options& o) {
  const int streams = std::max(1, o.streams);
  std::vector<std::unique_ptr<Pipe>> pipes;
  for (int s = 0; s < streams; ++s) {
    pipes.push_back(std::make_unique<Pipe>(NewConnection(o.broker, s)));
    std::string error;
    if (!pipes.back()->Open(error)) {
      std::fprintf(stderr, "sessions: stream %d: %s\n", s, error.c_str());
      return 1;
    }
  }
  std::mt19937_64 rng(o.seed);
  std::vector<std::vector<uint64_t>> ids(static_cast<size_t>(streams));
  std::atomic<int64_t> errors{0};
  const auto open_start = Clock::now();
  {
    std::vector<std::thread> openers;
    for (int s = 0; s < streams; ++s) {
      const int n = o.sessions / streams + (s < o.sessions % streams ? 1 : 0);
      const uint64_t nonce_base = rng();
      openers.emplace_back([&, s, n, nonce_base] {
        std::mutex mu;
        const bool ok = pipes[static_cast<size_t>(s)]->Run(
            static_cast<size_t>(n), o.batch, o.window,
            [&](size_t i, v1::Request& r) {
              v1::SessionOpen* open = r.mutable_session()->mutable_open();
              open->set_ttl_ms(o.ttl_ms);
              open->set_nonce(nonce_base + i + 1);
            },
            [&](const v1::Response& r) {
              if (r.has_error() || r.session().session_id() == 0) {
                ++errors;
                return;
              }
              std::lock_guard<std::mutex> lock(mu);
              ids[static_cast<size_t>(s)].push_back(r.session().session_id());
            });
        if (!ok) ++errors;
      });
    }
    for (std::thread& t : openers) t.join();
  }
  const double open_s = Seconds(Clock::now() - open_start);
  size_t opened = 0;
  for (const auto& v : ids) opened += v.size();
  if (errors > 0 || opened != static_cast<size_t>(o.sessions)) {
    std::fprintf(stderr, "sessions: opened %zu of %d (%lld errors)\n", opened,
                 o.sessions, static_cast<long long>(errors.load()));
    return 1;
  }

  // Keep-alives: each stream sends all of its sessions' every TTL/3.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> sent{0};
  std::atomic<int64_t> ka_errors{0};
  std::atomic<int64_t> cycles{0};
  std::atomic<int64_t> late_cycles{0};
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  const auto period = std::chrono::milliseconds(o.ttl_ms / 3);
  std::vector<std::thread> keepers;
  for (int s = 0; s < streams; ++s) {
    keepers.emplace_back([&, s] {
      const std::vector<uint64_t>& mine = ids[static_cast<size_t>(s)];
      auto next = Clock::now();
      while (!stop) {
        const auto cycle = Clock::now();
        const bool ok = pipes[static_cast<size_t>(s)]->Run(
            mine.size(), o.batch, o.window,
            [&](size_t i, v1::Request& r) {
              r.set_session_id(mine[i]);
              r.mutable_session()->mutable_keep_alive();
            },
            [&](const v1::Response& r) {
              if (r.has_error()) ++ka_errors;
            });
        if (!ok) ++ka_errors;
        sent += static_cast<int64_t>(mine.size());
        ++cycles;
        next += period;
        if (Clock::now() - cycle > period) ++late_cycles;
        std::unique_lock<std::mutex> lock(stop_mu);
        stop_cv.wait_until(lock, next, [&] { return stop.load(); });
      }
    });
  }
  Touch(o.ready_file);
  WaitForFile(o.go_file, o.hold_s);
  {
    std::lock_guard<std::mutex> lock(stop_mu);
    stop = true;
  }
  stop_cv.notify_all();
  for (std::thread& t : keepers) t.join();
  for (auto& p : pipes) p->Close();
  std::printf("sessions %zu\n", opened);
  std::printf("streams %d\n", streams);
  std::printf("ttl_ms %lld\n", static_cast<long long>(o.ttl_ms));
  std::printf("open_s %.3f\n", open_s);
  std::printf("keepalives_sent %lld\n", static_cast<long long>(sent.load()));
  std::printf("keepalive_cycles %lld\n", static_cast<long long>(cycles.load()));
  std::printf("late_cycles %lld\n", static_cast<long long>(late_cycles.load()));
  std::printf("keepalives_per_s %.0f\n",
              static_cast<double>(opened) * 3000.0 /
                  static_cast<double>(o.ttl_ms));
  std::printf("errors %lld\n", static_cast<long long>(ka_errors.load()));
  return ka_errors == 0 ? 0 : 1;
}

// ---------------------------------------------------------------- watch

// One watch stream, read with the completion-queue API.
struct WatchCall {
  grpc::ClientContext context;
  v1::WatchResponse response;
  std::unique_ptr<grpc::ClientAsyncReader<v1::WatchResponse>> reader;
  grpc::Status status;
  uint32_t key = 0;
  uint32_t received = 0;
  int64_t last_revision = 0;
  bool started = false;
  bool out_of_order = false;
};

enum Op : uintptr_t { kStart = 0, kRead = 1, kFinish = 2 };

void* Tag(WatchCall* call, Op op) {
  return reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(call) | op);
}

// One write of the watch workload: sent at `sent`, done once `received`
// reaches `expected` (the watchers of its key).
struct Delivery {
  Clock::time_point sent;
  Clock::time_point done;
  std::atomic<uint32_t> received{0};
  uint32_t expected = 0;
  uint32_t key = 0;
};

class WatchLoad {
 public:
  explicit WatchLoad(const Options& o) : o_(o) {}

  int Run() {
    const int conns = std::max(1, o_.connections);
    for (int c = 0; c < conns; ++c) {
      stubs_.push_back(v1::Broker::NewStub(NewConnection(o_.broker, c)));
    }
    const int threads = std::max(1, o_.cq_threads);
    for (int t = 0; t < threads; ++t) {
      cqs_.push_back(std::make_unique<grpc::CompletionQueue>());
    }
    for (int t = 0; t < threads; ++t) {
      pollers_.emplace_back([this, t] { Poll(cqs_[static_cast<size_t>(t)].get()); });
    }
    per_key_.assign(static_cast<size_t>(o_.keys), 0);
    deliveries_ = std::vector<Delivery>(kMaxWrites);
    for (int w = 0; w < o_.watchers; ++w) ++per_key_[static_cast<size_t>(w % o_.keys)];

    // Open every watch, at most open_window waiting for their header.
    const auto open_start = Clock::now();
    calls_.reserve(static_cast<size_t>(o_.watchers));
    for (int w = 0; w < o_.watchers; ++w) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return w - settled_ < o_.open_window; });
      }
      auto call = std::make_unique<WatchCall>();
      call->key = static_cast<uint32_t>(w % o_.keys);
      v1::WatchRequest request;
      request.set_type(v1::MAP);
      request.set_name(MapName(call->key));
      request.set_key(KeyName(call->key));
      WatchCall* raw = call.get();
      calls_.push_back(std::move(call));
      raw->reader = stubs_[static_cast<size_t>(w % conns)]->PrepareAsyncWatch(
          &raw->context, request, cqs_[static_cast<size_t>(w % threads)].get());
      raw->reader->StartCall(Tag(raw, kStart));
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return settled_ == o_.watchers; });
    }
    const double open_s = Seconds(Clock::now() - open_start);
    std::printf("watchers %d\n", o_.watchers);
    std::printf("keys %d\n", o_.keys);
    std::printf("maps %d\n", o_.maps);
    std::printf("connections %d\n", conns);
    std::printf("open_s %.2f\n", open_s);
    std::fflush(stdout);
    if (failed_ > 0) {
      std::fprintf(stderr, "watch: %d watches failed to start: %s\n",
                   failed_, first_error_.c_str());
      return 1;
    }
    Touch(o_.ready_file);
    if (!o_.go_file.empty() && !WaitForFile(o_.go_file, o_.hold_s)) {
      std::fprintf(stderr, "watch: no %s\n", o_.go_file.c_str());
      return 1;
    }
    return Write();
  }

 private:
  std::string MapName(uint32_t key) const {
    if (o_.maps <= 1) return "scale-watch";
    return "scale-watch-" + std::to_string(key % static_cast<uint32_t>(o_.maps));
  }
  static std::string KeyName(uint32_t key) {
    char name[32];
    std::snprintf(name, sizeof(name), "key%05u", key);
    return name;
  }

  void Poll(grpc::CompletionQueue* cq) {
    void* tag;
    bool ok;
    while (cq->Next(&tag, &ok)) {
      const uintptr_t bits = reinterpret_cast<uintptr_t>(tag);
      WatchCall* call = reinterpret_cast<WatchCall*>(bits & ~uintptr_t{3});
      switch (static_cast<Op>(bits & 3)) {
        case kStart:
          if (ok) {
            call->reader->Read(&call->response, Tag(call, kRead));
          } else {
            call->reader->Finish(&call->status, Tag(call, kFinish));
          }
          break;
        case kRead:
          if (!ok) {
            call->reader->Finish(&call->status, Tag(call, kFinish));
            break;
          }
          Process(*call);
          call->response.Clear();
          call->reader->Read(&call->response, Tag(call, kRead));
          break;
        case kFinish: {
          ended_++;
          if (!call->started) {
            std::lock_guard<std::mutex> lock(mu_);
            if (failed_++ == 0) first_error_ = call->status.error_message();
            ++settled_;
            cv_.notify_all();
          }
          break;
        }
      }
    }
  }

  void Process(WatchCall& call) {
    const auto now = Clock::now();
    if (call.response.has_header() && !call.started) {
      call.started = true;
      std::lock_guard<std::mutex> lock(mu_);
      ++settled_;
      cv_.notify_all();
    }
    if (call.response.has_snapshot()) snapshots_++;
    for (const v1::WatchEvent& event : call.response.events()) {
      if (event.revision() <= call.last_revision) call.out_of_order = true;
      call.last_revision = event.revision();
      ++call.received;
      const std::string& value = event.entry().value();
      if (value.size() < 2 || value[0] != 'w') continue;
      const size_t seq = std::strtoull(value.c_str() + 1, nullptr, 10);
      if (seq >= deliveries_.size()) continue;
      Delivery& d = deliveries_[seq];
      if (d.key != call.key) call.out_of_order = true;  // wrong key
      if (d.received.fetch_add(1) + 1 == d.expected) {
        d.done = now;
        std::lock_guard<std::mutex> lock(mu_);
        ++completed_;
        cv_.notify_all();
      }
    }
  }

  int Write() {
    Pipe pipe(NewConnection(o_.broker, 1 << 20));
    std::string error;
    if (!pipe.Open(error)) {
      std::fprintf(stderr, "watch: writer: %s\n", error.c_str());
      return 1;
    }
    std::atomic<int64_t> put_errors{0};
    pipe.SetHandler([&](v1::ResponseBatch& answers) {
      for (const v1::Response& r : answers.responses()) {
        if (r.has_error()) ++put_errors;
      }
    });
    const size_t max_writes = deliveries_.size();
    const int inflight = std::max(1, o_.inflight);
    const auto start = Clock::now();
    const auto until = start + std::chrono::duration<double>(o_.duration);
    size_t issued = 0;
    uint64_t id = 0;
    while (issued < max_writes && Clock::now() < until && !pipe.broken()) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_until(lock, until, [&] {
          return issued - completed_ < static_cast<size_t>(inflight);
        });
        if (issued - completed_ >= static_cast<size_t>(inflight)) break;
      }
      Delivery& d = deliveries_[issued];
      d.key = static_cast<uint32_t>(issued % static_cast<size_t>(o_.keys));
      d.expected = per_key_[d.key];
      std::string value = "w" + std::to_string(issued);
      value.resize(64, '.');
      v1::RequestBatch batch;
      v1::Request* r = batch.add_requests();
      r->set_id(++id);
      r->set_type(v1::MAP);
      r->set_name(MapName(d.key));
      v1::MapPut* put = r->mutable_map()->mutable_put();
      put->set_key(KeyName(d.key));
      put->set_value(std::move(value));
      d.sent = Clock::now();
      ++issued;
      if (d.expected == 0) {
        d.done = d.sent;
        std::lock_guard<std::mutex> lock(mu_);
        ++completed_;
      }
      pipe.Write(batch);
    }
    const auto stopped = Clock::now();
    bool drained;
    {
      std::unique_lock<std::mutex> lock(mu_);
      drained = cv_.wait_for(lock, std::chrono::seconds(60),
                             [&] { return completed_ == issued; });
    }
    // Count what arrived, then check every watcher against its key's writes.
    std::vector<uint32_t> writes_per_key(static_cast<size_t>(o_.keys), 0);
    Clock::time_point last_done = start;
    std::vector<double> latency_ms;
    latency_ms.reserve(issued);
    uint64_t delivered = 0;
    for (size_t i = 0; i < issued; ++i) {
      const Delivery& d = deliveries_[i];
      ++writes_per_key[d.key];
      delivered += d.received.load();
      if (d.received.load() == d.expected) {
        last_done = std::max(last_done, d.done);
        latency_ms.push_back(
            std::chrono::duration<double, std::milli>(d.done - d.sent).count());
      }
    }
    // Give stray events (there should be none) a moment to show up.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    int64_t wrong = 0;
    int64_t disordered = 0;
    for (const auto& call : calls_) {
      if (call->received != writes_per_key[call->key]) ++wrong;
      if (call->out_of_order) ++disordered;
    }
    std::sort(latency_ms.begin(), latency_ms.end());
    const double elapsed = Seconds(last_done - start);
    std::printf("writes %zu\n", issued);
    std::printf("write_s %.2f\n", Seconds(stopped - start));
    std::printf("deliveries %llu\n", static_cast<unsigned long long>(delivered));
    std::printf("delivery_s %.2f\n", elapsed);
    std::printf("events_per_s %.0f\n",
                elapsed > 0 ? static_cast<double>(delivered) / elapsed : 0.0);
    std::printf("writes_per_s %.1f\n",
                elapsed > 0 ? static_cast<double>(issued) / elapsed : 0.0);
    std::printf("fanout_p50_ms %.1f\n", Percentile(latency_ms, 0.5));
    std::printf("fanout_p99_ms %.1f\n", Percentile(latency_ms, 0.99));
    std::printf("fanout_max_ms %.1f\n",
                latency_ms.empty() ? 0.0 : latency_ms.back());
    std::printf("snapshots %lld\n", static_cast<long long>(snapshots_.load()));
    std::printf("ended_watches %lld\n", static_cast<long long>(ended_.load()));
    std::printf("watchers_wrong_count %lld\n", static_cast<long long>(wrong));
    std::printf("watchers_out_of_order %lld\n", static_cast<long long>(disordered));
    std::printf("errors %lld\n", static_cast<long long>(put_errors.load()));
    const bool ok = drained && wrong == 0 && disordered == 0 &&
                    put_errors == 0 && ended_ == 0 && snapshots_ == 0;
    if (!drained) std::fprintf(stderr, "watch: not every write was delivered\n");
    return ok ? 0 : 1;
  }

  static constexpr size_t kMaxWrites = 1'000'000;

  const Options o_;
  std::vector<std::unique_ptr<v1::Broker::Stub>> stubs_;
  std::vector<std::unique_ptr<grpc::CompletionQueue>> cqs_;
  std::vector<std::thread> pollers_;
  std::vector<std::unique_ptr<WatchCall>> calls_;
  std::vector<uint32_t> per_key_;
  std::vector<Delivery> deliveries_;
  std::mutex mu_;
  std::condition_variable cv_;
  int settled_ = 0;  // watches with a header, or ended before one
  int failed_ = 0;
  std::string first_error_;
  size_t completed_ = 0;  // writes delivered to every watcher of their key
  std::atomic<int64_t> ended_{0};
  std::atomic<int64_t> snapshots_{0};
};

// ---------------------------------------------------------------- counters

int Counters(const Options& o) {
  Pipe pipe(NewConnection(o.broker, 0));
  std::string error;
  if (!pipe.Open(error)) {
    std::fprintf(stderr, "counters: %s\n", error.c_str());
    return 1;
  }
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(o.counters));
  for (int i = 0; i < o.counters; ++i) names.push_back(CounterName(i));
  const auto make_add = [&](size_t counter, v1::Request& r) {
    r.set_type(v1::COUNTER);
    r.set_name(names[counter]);
    r.mutable_counter()->mutable_add()->set_delta(1);
  };
  std::atomic<int64_t> errors{0};
  const auto create_start = Clock::now();
  if (!pipe.Run(names.size(), o.batch, o.window, make_add,
                [&](const v1::Response& r) {
                  if (r.has_error()) ++errors;
                })) {
    std::fprintf(stderr, "counters: the stream broke while creating\n");
    return 1;
  }
  const double create_s = Seconds(Clock::now() - create_start);

  // Closed loop: every answer is replaced by a new increment in the next
  // batch, so `inflight` requests are always outstanding. Request id i
  // uses slot i % inflight.
  const size_t inflight = static_cast<size_t>(std::max(1, o.inflight));
  std::vector<Clock::time_point> sent(inflight);
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<size_t> pick(0, names.size() - 1);
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  size_t outstanding = inflight;
  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::duration<double>(o.warmup);
  const auto measure_to =
      measure_from + std::chrono::duration<double>(o.duration);
  std::vector<uint32_t> latency_us;
  latency_us.reserve(4'000'000);
  int64_t measured = 0;
  uint64_t answered = 0;
  uint64_t batches = 0;
  pipe.SetHandler([&](v1::ResponseBatch& answers) {
    const auto now = Clock::now();
    const bool in_window = now >= measure_from && now < measure_to;
    v1::RequestBatch next;
    const bool stop = stopping.load();
    for (const v1::Response& r : answers.responses()) {
      if (r.has_error()) ++errors;
      const size_t slot = r.id() % inflight;
      if (in_window) {
        ++measured;
        latency_us.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - sent[slot])
                .count()));
      }
      if (stop) continue;
      v1::Request* q = next.add_requests();
      make_add(pick(rng), *q);
      q->set_id(r.id() + inflight);
      sent[slot] = now;
    }
    if (answers.responses_size() > 0) ++batches;
    answered += static_cast<uint64_t>(answers.responses_size());
    if (next.requests_size() > 0) pipe.Write(next);
    std::lock_guard<std::mutex> lock(mu);
    if (stop) outstanding -= static_cast<size_t>(answers.responses_size());
    cv.notify_all();
  });
  {
    v1::RequestBatch first;
    const auto now = Clock::now();
    for (size_t slot = 0; slot < inflight; ++slot) {
      v1::Request* q = first.add_requests();
      make_add(pick(rng), *q);
      q->set_id(inflight + slot);  // ids >= inflight: slot = id % inflight
      sent[slot] = now;
    }
    pipe.Write(first);
  }
  std::this_thread::sleep_until(measure_to);
  stopping = true;
  bool drained;
  {
    std::unique_lock<std::mutex> lock(mu);
    drained = cv.wait_for(lock, std::chrono::seconds(30),
                          [&] { return outstanding == 0 || pipe.broken(); });
  }
  pipe.SetHandler(nullptr);
  pipe.Close();
  std::sort(latency_us.begin(), latency_us.end());
  std::printf("counters %d\n", o.counters);
  std::printf("inflight %zu\n", inflight);
  std::printf("create_s %.2f\n", create_s);
  std::printf("ops %lld\n", static_cast<long long>(measured));
  std::printf("ops_per_s %.0f\n", static_cast<double>(measured) / o.duration);
  std::printf("p50_us %u\n", Percentile(latency_us, 0.5));
  std::printf("p99_us %u\n", Percentile(latency_us, 0.99));
  std::printf("answers_per_batch %.1f\n",
              batches > 0 ? static_cast<double>(answered) /
                                static_cast<double>(batches)
                          : 0.0);
  std::printf("errors %lld\n", static_cast<long long>(errors.load()));
  return errors == 0 && drained ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"atomix-scale: many sessions, watches and primitives against "
               "one broker (see bench/scale_curves.sh)",
               "atomix-scale"};
  app.add_option("--broker", o.broker, "broker address host:port")
      ->capture_default_str();
  app.add_option("--mode", o.mode, "fill | sessions | watch | counters")
      ->required()
      ->check(CLI::IsMember({"fill", "sessions", "watch", "counters"}));
  app.add_option("--ready-file", o.ready_file,
                 "created once the sessions or watches are all open");
  app.add_option("--go-file", o.go_file,
                 "sessions: stop once it exists; watch: start writing once it "
                 "exists");
  app.add_option("--hold-s", o.hold_s, "longest wait for --go-file, seconds")
      ->capture_default_str();
  app.add_option("--batch", o.batch, "requests per RequestBatch (fill, "
                 "session opens and keep-alives, counter creation)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  app.add_option("--window", o.window, "unanswered requests at most, same uses")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10000000}));
  app.add_option("--entries", o.entries, "fill: map entries")
      ->capture_default_str();
  app.add_option("--value-bytes", o.value_bytes, "fill: bytes per value")
      ->capture_default_str();
  app.add_option("--map", o.map, "fill: map name")->capture_default_str();
  app.add_option("--sessions", o.sessions, "sessions: how many")
      ->capture_default_str();
  app.add_option("--streams", o.streams,
                 "sessions: Streams (each on its own connection)")
      ->capture_default_str();
  app.add_option("--ttl-ms", o.ttl_ms, "sessions: TTL; keep-alive every TTL/3")
      ->capture_default_str();
  app.add_option("--watchers", o.watchers, "watch: how many watches")
      ->capture_default_str();
  app.add_option("--keys", o.keys, "watch: distinct keys watched")
      ->capture_default_str();
  app.add_option("--maps", o.maps, "watch: maps the keys are spread over")
      ->capture_default_str();
  app.add_option("--connections", o.connections,
                 "watch: HTTP/2 connections the watches share")
      ->capture_default_str();
  app.add_option("--cq-threads", o.cq_threads,
                 "watch: threads reading the watches")
      ->capture_default_str();
  app.add_option("--open-window", o.open_window,
                 "watch: watches waiting for their header at most")
      ->capture_default_str();
  app.add_option("--inflight", o.inflight,
                 "watch: writes not yet delivered everywhere (default 8); "
                 "counters: increments in flight (default 64)");
  app.add_option("--duration", o.duration, "watch, counters: seconds measured")
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "counters: seconds before measuring")
      ->capture_default_str();
  app.add_option("--counters", o.counters, "counters: distinct counters")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app.add_option("--seed", o.seed, "random seed")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (o.keys < 1 || o.watchers < 0 || o.sessions < 0 || o.maps < 1) {
    std::fprintf(stderr, "atomix-scale: --keys and --maps must be >= 1\n");
    return 2;
  }
  int rc = 0;
  if (o.mode == "fill") {
    rc = Fill(o);
  } else if (o.mode == "sessions") {
    rc = Sessions(o);
  } else if (o.mode == "watch") {
    if (o.inflight == 0) o.inflight = 8;
    WatchLoad load(o);
    rc = load.Run();
    // 100,000 open calls take long to tear down one by one and the broker
    // is about to be stopped anyway: leave without unwinding them.
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(rc);
  } else {
    if (o.inflight == 0) o.inflight = 64;
    rc = Counters(o);
  }
  std::fflush(stdout);
  return rc;
}
