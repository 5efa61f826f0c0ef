// Server-Sent Events of one primitive's changes.
#include "broker-sim/src/http/console_events.h"

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "atomix/v1/watch.pb.h"
#include "broker-sim/src/core/validate.h"
#include "broker-sim/src/http/console_params.h"
#include "google/protobuf/util/json_util.h"
#include "httplib.h"
#include "spdlog/spdlog.h"

namespace atomix::broker {
namespace {

// How many streams are open; shared by the handler and its streams.
struct Slots {
  std::atomic<int> open{0};
};

// One open event stream: a Watcher the hub wakes, pumped by httplib's
// content provider loop on one server thread.
class EventStream final : public Watcher {
 public:
  EventStream(Broker& broker, WatchHub& hub, std::shared_ptr<Slots> slots,
              EventStreamOptions options, std::string name, v1::PrimitiveType type,
              WatchFilter filter)
      : broker_(broker),
        hub_(hub),
        slots_(std::move(slots)),
        options_(options),
        name_(std::move(name)),
        type_(type),
        filter_(std::move(filter)) {}
  ~EventStream() override { End(); }

  // Binds the watch: after the current revision, or from `resume` (> 0);
  // a `broker_id` of another incarnation makes it a reload instead.
  absl::Status Start(int64_t resume, const std::string& broker_id) {
    // Registered before the start revision is read: no change is missed.
    hub_.Register(name_, this);
    registered_ = true;
    absl::StatusOr<WatchStart> start =
        broker_.store().StartWatch(name_, type_, filter_, /*snapshot=*/false);
    if (!start.ok()) return start.status();
    cursor_ = start->revision + 1;
    if (resume > 0 && !broker_id.empty() && broker_id != broker_.id()) {
      pending_ = Reload("new_broker", start->revision);
    } else if (resume > 0) {
      cursor_ = resume;
    }
    pending_ = absl::StrCat(
        "retry: 2000\nevent: hello\ndata: {\"name\":", JsonQuote(name_),
        ",\"type\":", JsonQuote(v1::PrimitiveType_Name(type_)),
        ",\"brokerId\":", JsonQuote(broker_.id()), ",\"revision\":", start->revision,
        ",\"from\":", cursor_, "}\n\n", pending_);
    return absl::OkStatus();
  }

  void Wake() override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    woken_ = true;
  }
  void Close() override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

  // httplib's content provider: writes what is new, or waits a while for
  // it. False ends the response (the client went away).
  bool Pump(httplib::DataSink& sink) {
    std::string out = std::move(pending_);
    pending_.clear();
    if (!ReadNew(out)) {
      // The name is bound to another type now: nothing more to say.
      if (!out.empty() && !sink.write(out.data(), out.size())) return false;
      sink.done();
      return true;
    }
    if (out.empty()) {
      if (!sink.is_writable()) return false;
      const bool woken = Wait(options_.check);
      if (Closed()) {
        sink.done();
        return true;
      }
      if (woken) return true;  // read at the next call
      if (absl::Now() - last_write_ < options_.heartbeat) return true;
      out = ": heartbeat\n\n";
    }
    last_write_ = absl::Now();
    return sink.write(out.data(), out.size());
  }

  // Leaves the hub and frees the slot; once.
  void End() {
    if (registered_) {
      hub_.Unregister(name_, this);
      registered_ = false;
    }
    if (slots_ != nullptr) {
      slots_->open.fetch_sub(1);
      slots_ = nullptr;
    }
  }

 private:
  static std::string Reload(absl::string_view reason, int64_t revision) {
    return absl::StrCat("id: ", revision, "\nevent: reload\ndata: {\"reason\":\"", reason,
                        "\",\"revision\":", revision, "}\n\n");
  }

  // Appends the messages of the next whole revisions after the cursor, or
  // a reload if they are gone. False if the watch cannot go on.
  bool ReadNew(std::string& out) {
    const WatchBudget budget{.max_bytes = options_.max_write_bytes,
                             .max_events = options_.max_write_events};
    google::protobuf::util::JsonPrintOptions json;
    while (true) {
      v1::WatchResponse batch;
      const int64_t from = cursor_;
      const WatchRead read = broker_.store().ReadWatch(name_, filter_, cursor_, budget, batch);
      if (read.compacted) {
        absl::StatusOr<WatchStart> start =
            broker_.store().StartWatch(name_, type_, filter_, /*snapshot=*/false);
        if (!start.ok()) {
          spdlog::debug("console events on \"{}\" end: {}", name_,
                        std::string(start.status().message()));
          return false;
        }
        cursor_ = start->revision + 1;
        out += Reload("compacted", start->revision);
        return true;
      }
      cursor_ = read.next;
      for (const v1::WatchEvent& event : batch.events()) {
        std::string data;
        if (!google::protobuf::util::MessageToJsonString(event, &data, json).ok()) {
          data = absl::StrCat("{\"revision\":\"", event.revision(), "\"}");
        }
        absl::StrAppend(&out, "id: ", event.revision(), "\ndata: ", data, "\n\n");
      }
      // A filtered read may skip revisions without a match: go on while
      // it makes progress.
      if (batch.events_size() > 0 || cursor_ == from) return true;
    }
  }

  // Waits until woken, closed or `timeout`; whether it was woken.
  bool Wait(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(this, &EventStream::Ready), timeout);
    const bool woken = woken_;
    woken_ = false;
    return woken;
  }
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return woken_ || closed_; }
  bool Closed() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return closed_;
  }

  Broker& broker_;
  WatchHub& hub_;
  std::shared_ptr<Slots> slots_;
  const EventStreamOptions options_;
  const std::string name_;
  const v1::PrimitiveType type_;
  const WatchFilter filter_;
  // Used by the one thread that runs the handler, then the provider.
  bool registered_ = false;
  int64_t cursor_ = 0;
  std::string pending_;
  absl::Time last_write_ = absl::InfinitePast();

  absl::Mutex mu_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// The type `name` is bound to, or NOT_FOUND.
absl::StatusOr<v1::PrimitiveType> BoundType(Broker& broker, const std::string& name) {
  v1::ListPrimitivesRequest list;
  list.set_prefix(name);
  list.set_limit(1);
  v1::ListPrimitivesResponse found;
  broker.store().ListPrimitives(list, found);
  if (found.primitives_size() == 0 || found.primitives(0).name() != name) {
    return absl::NotFoundError(absl::StrCat(
        "no primitive is named ", JsonQuote(name),
        "; give type= to watch a name before it is created"));
  }
  return found.primitives(0).type();
}

// The query parameter that a watch validation message (validate.h) is
// about: it starts with the WatchRequest field's name.
absl::string_view WatchParameter(absl::string_view message) {
  if (absl::StartsWith(message, "name")) return "name";
  if (absl::StartsWith(message, "type")) return "type";
  if (absl::StartsWith(message, "key")) return "key";
  if (absl::StartsWith(message, "prefix")) return "key_prefix";
  return "";
}

}  // namespace

void RegisterEventStream(httplib::Server& routes, Broker& broker, WatchHub& hub,
                         EventStreamOptions options) {
  auto slots = std::make_shared<Slots>();
  routes.Get("/api/events", [&broker, &hub, options, slots](const httplib::Request& request,
                                                            httplib::Response& response) {
    ConsoleParams params(request);
    std::string name;
    std::string broker_id;
    std::string key;
    std::string key_prefix;
    v1::PrimitiveType type = v1::PRIMITIVE_TYPE_UNSPECIFIED;
    int64_t from = 0;
    constexpr int64_t kMaxRevision = std::numeric_limits<int64_t>::max() - 1;
    if (!params.Only({"name", "type", "from", "key", "key_prefix", "broker"}) ||
        !params.Text("name", name) || !params.Type("type", type) ||
        !params.Int("from", 1, kMaxRevision, from) || !params.Text("key", key) ||
        !params.Text("key_prefix", key_prefix) || !params.Text("broker", broker_id)) {
      return ReplyError(response, 400, params.error(), params.parameter());
    }
    if (name.empty()) return ReplyError(response, 400, "name is required", "name");
    // The browser's own reconnection says where it stopped.
    const std::string last = request.get_header_value("Last-Event-ID");
    if (!last.empty()) {
      int64_t id = 0;
      if (last.size() > 20 || !absl::ascii_isdigit(static_cast<unsigned char>(last[0])) ||
          !absl::SimpleAtoi(last, &id) || id > kMaxRevision - 1) {
        return ReplyError(response, 400,
                          absl::StrCat("Last-Event-ID is ", JsonQuote(last.substr(0, 64)),
                                       "; expected a revision"),
                          "Last-Event-ID");
      }
      from = id + 1;
    }
    if (type == v1::PRIMITIVE_TYPE_UNSPECIFIED) {
      absl::StatusOr<v1::PrimitiveType> bound = BoundType(broker, name);
      if (!bound.ok()) return ReplyError(response, 404, bound.status().message(), "name");
      type = *bound;
    }
    v1::WatchRequest watch;
    watch.set_name(name);
    watch.set_type(type);
    if (params.Has("key")) watch.set_key(key);
    watch.set_prefix(key_prefix);
    if (absl::Status valid = ValidateWatchRequest(watch, broker.limits()); !valid.ok()) {
      return ReplyError(response, 400, valid.message(), WatchParameter(valid.message()));
    }
    if (slots->open.fetch_add(1) >= options.max_streams) {
      slots->open.fetch_sub(1);
      response.set_header("Retry-After", "5");
      return ReplyError(response, 503,
                        absl::StrCat(options.max_streams,
                                     " event streams are open, the most this broker serves; "
                                     "try again later"));
    }
    WatchFilter filter;
    if (watch.has_key()) filter.key = key;
    filter.prefix = key_prefix;
    // Owns the slot from here on.
    auto stream =
        std::make_shared<EventStream>(broker, hub, slots, options, name, type, std::move(filter));
    if (absl::Status started = stream->Start(from, broker_id); !started.ok()) {
      return ReplyError(response, started);
    }
    response.set_header("Cache-Control", "no-store");
    response.set_header("X-Accel-Buffering", "no");
    // Exactly this type: httplib never compresses it (compression would
    // hold events back).
    response.set_chunked_content_provider(
        "text/event-stream",
        [stream](size_t, httplib::DataSink& sink) { return stream->Pump(sink); },
        [stream](bool) { stream->End(); });
  });
}

}  // namespace atomix::broker
