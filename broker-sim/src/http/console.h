// The web console: a read-only page and its JSON API, served by the
// broker's HttpServer (--http-listen).
//
//   GET /                      the page (index.html, console.css, console.js,
//                              compiled into the broker)
//   GET /api/status            Admin.Status as JSON
//   GET /api/sessions?after=&limit=
//                              Admin.ListSessions as JSON
//   GET /api/primitives?prefix=&type=&after=&limit=
//                              Admin.ListPrimitives as JSON
//   GET /api/events?name=...   one primitive's changes as Server-Sent Events
//                              (console_events.h)
//
// Answers are proto3 JSON (lowerCamelCase fields; int64 values as strings;
// bytes as base64). A bad or unknown query parameter gets 400 with
// {"error": "...", "parameter": "..."}. Nothing here changes broker state.
// See docs/console.md.
//
//   HttpServer http({.listen = "127.0.0.1:5680"});
//   RegisterConsole(http.routes(), broker, server->process(), server->watch_hub());
//   http.Start();
//
// Thread-safety: call before the HTTP server starts; the handlers run on
// its threads, several at once. `broker`, `process` and `hub` must outlive
// the HTTP server's serving (stop it first).
#ifndef ATOMIX_BROKER_HTTP_CONSOLE_H_
#define ATOMIX_BROKER_HTTP_CONSOLE_H_

#include "broker-sim/src/core/broker.h"
#include "broker-sim/src/http/console_events.h"
#include "broker-sim/src/server/inspect.h"
#include "broker-sim/src/server/watch_hub.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace atomix::broker {

struct ConsoleOptions {
  EventStreamOptions events;
};

void RegisterConsole(httplib::Server& routes, Broker& broker, const BrokerProcess& process,
                     WatchHub& hub, ConsoleOptions options = {});

}  // namespace atomix::broker

#endif  // ATOMIX_BROKER_HTTP_CONSOLE_H_
