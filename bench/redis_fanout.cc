#include "bench/redis_fanout.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/resp.h"

namespace atomix::bench {
namespace {

struct Subscriber {
  RespConn conn;
  FanoutRun::Watcher state;
};

void Consume(FanoutRun& run, std::vector<Subscriber*> mine, Histogram& latency,
             const std::atomic<bool>& done) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (Subscriber* s : mine) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = s;
    epoll_ctl(ep, EPOLL_CTL_ADD, s->conn.fd(), &ev);
  }
  std::vector<epoll_event> ready(mine.size());
  while (!done.load(std::memory_order_relaxed)) {
    int n = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 10);
    for (int i = 0; i < n; ++i) {
      Subscriber& s = *static_cast<Subscriber*>(ready[static_cast<size_t>(i)].data.ptr);
      absl::Status read = s.conn.ReadAvailable();
      RespReply r;
      int got;
      while ((got = s.conn.Next(r)) == 1) {
        const int64_t now = SteadyNowNs();
        if (r.type != '*' || r.count != 3 || r.items[0].text != "message") {
          FanoutRun::Fail(s.state, "unexpected push from redis");
          continue;
        }
        run.Deliver(s.state, latency, r.items[2].text, 0, now);
      }
      s.conn.Compact();
      if (got < 0) FanoutRun::Fail(s.state, "unparsable push from redis");
      if (!read.ok() || got < 0) {
        FanoutRun::Fail(s.state, read.ToString());
        epoll_ctl(ep, EPOLL_CTL_DEL, s.conn.fd(), nullptr);
      }
    }
  }
  close(ep);
}

}  // namespace

absl::StatusOr<FanoutResult> RunRedisFanout(const std::string& address,
                                            const FanoutOptions& options) {
  const std::string channel = absl::StrCat("bench-fanout-", getpid(), "-", SteadyNowNs());
  FanoutRun run(options);
  const int n = options.watchers;
  std::vector<Subscriber> subs(static_cast<size_t>(n));
  for (Subscriber& s : subs) {
    auto conn = RespConn::Dial(address);
    if (!conn.ok()) return conn.status();
    s.conn = *std::move(conn);
    s.state = run.NewWatcher();
    absl::Status sent = s.conn.Send({"SUBSCRIBE", channel});
    if (!sent.ok()) return sent;
    auto reply = s.conn.ReadReply();
    if (!reply.ok()) return reply.status();
    if (reply->type != '*' || reply->count != 3 || reply->items[0].text != "subscribe") {
      return absl::InternalError("redis: unexpected reply to SUBSCRIBE");
    }
    absl::Status nb = s.conn.SetNonBlocking();
    if (!nb.ok()) return nb;
  }
  std::vector<RespConn> pubs;
  for (int w = 0; w < run.writers(); ++w) {
    auto conn = RespConn::Dial(address);
    if (!conn.ok()) return conn.status();
    pubs.push_back(*std::move(conn));
  }

  const int consumers = std::clamp(options.consumers, 1, n);
  std::vector<Histogram> latencies(static_cast<size_t>(consumers));
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < consumers; ++c) {
    std::vector<Subscriber*> mine;
    for (int i = c; i < n; i += consumers) mine.push_back(&subs[static_cast<size_t>(i)]);
    threads.emplace_back(Consume, std::ref(run), std::move(mine),
                         std::ref(latencies[static_cast<size_t>(c)]), std::cref(done));
  }

  absl::Status driven = run.Drive([&](int writer, const std::string& payload) {
    RespConn& pub = pubs[static_cast<size_t>(writer)];
    absl::Status sent = pub.Send({"PUBLISH", channel, payload});
    if (!sent.ok()) return absl::StatusOr<int64_t>(sent);
    auto reply = pub.ReadReply();
    if (!reply.ok()) return absl::StatusOr<int64_t>(reply.status());
    int64_t receivers = -1;
    if (reply->type == ':') {
      std::from_chars(reply->text.data(), reply->text.data() + reply->text.size(), receivers);
    }
    if (receivers != n) {
      return absl::StatusOr<int64_t>(absl::InternalError(absl::StrCat(
          "redis: PUBLISH reached ", std::string(reply->text), " subscribers, expected ", n)));
    }
    return absl::StatusOr<int64_t>(0);
  });
  done = true;
  for (auto& t : threads) t.join();
  if (!driven.ok()) return driven;

  std::vector<const FanoutRun::Watcher*> states;
  for (const Subscriber& s : subs) states.push_back(&s.state);
  std::vector<const Histogram*> hists;
  for (const Histogram& h : latencies) hists.push_back(&h);
  return run.Finish(states, hists);
}

}  // namespace atomix::bench
