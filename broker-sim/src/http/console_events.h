// GET /api/events: one primitive's changes as Server-Sent Events, for the
// console's live pane (EventSource in the browser).
//
//   GET /api/events?name=orders[&type=map][&from=REV][&key=K|&key_prefix=P][&broker=ID]
//
//   retry: 2000
//   event: hello
//   data: {"name":"orders","type":"MAP","brokerId":"...","revision":41,"from":42}
//
//   id: 42
//   data: {"type":"INSERTED","revision":"42","entry":{...}}
//
// Each watch event is one message whose id is its revision. The stream
// starts after the current revision, or at `from` (every change at
// revision >= from), or, when the browser reconnects by itself, after the
// Last-Event-ID header's revision (which wins over `from`); so a page
// resumes across a dropped connection or a broker restart (the disk store
// keeps its history) with no change lost or repeated. When the history no
// longer holds the revision to resume from, or `broker` names another
// broker incarnation than this one, the stream sends
//
//   id: 57
//   event: reload
//   data: {"reason":"compacted","revision":57}
//
// (reason "compacted" or "new_broker"): the page should reload its view of
// the state; changes after that revision follow. `type` may be left out
// for a name that exists. key and key_prefix filter a map's changes.
//
// The stream waits for changes on the WatchHub (no polling), checks every
// `check` interval that its client is still there and that the server is
// not stopping, and sends a comment line when nothing else was sent for
// `heartbeat`. Each open stream holds one of the HTTP server's threads:
// beyond max_streams new ones get 503 with Retry-After, so that the pages,
// the API and /metrics keep threads to run on. Errors before the stream
// starts are JSON answers as in console.h (400 bad parameter, 404 unknown
// name without `type`, 409 name bound to another type).
//
// Thread-safety: register before the server starts; streams run on the
// server's threads and the hub's.
#ifndef ATOMIX_BROKER_HTTP_CONSOLE_EVENTS_H_
#define ATOMIX_BROKER_HTTP_CONSOLE_EVENTS_H_

#include <cstddef>

#include "absl/time/time.h"
#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/server/watch_hub.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace atomix::broker {

struct EventStreamOptions {
  // Event streams open at once, at most (the HTTP server has 8 threads).
  int max_streams = 4;
  // A comment line after this long without a write: it keeps proxies from
  // closing the connection, and a failed write is how a stream learns that
  // its client went away (cpp-httplib 0.11 sees a closed peer as writable).
  absl::Duration heartbeat = absl::Seconds(1);
  // How long an idle stream sleeps between checks of its client.
  absl::Duration check = absl::Seconds(1);
  // One write holds at most about this much (whole revisions).
  size_t max_write_bytes = 1 << 20;
  size_t max_write_events = 1000;
};

void RegisterEventStream(httplib::Server& routes, Broker& broker, WatchHub& hub,
                         EventStreamOptions options);

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_HTTP_CONSOLE_EVENTS_H_
