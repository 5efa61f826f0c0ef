// The web console's page and JSON API.
#include "broker-sim/src/http/console.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "broker-sim/src/http/console_assets.h"
#include "broker-sim/src/http/console_params.h"
#include "httplib.h"

namespace atomix::broker {
namespace {

std::string ContentType(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  return "application/octet-stream";
}

// A strong validator of the file's bytes (FNV-1a).
std::string ETag(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return absl::StrFormat("\"%016x\"", hash);
}

void RegisterAsset(httplib::Server& routes, const ConsoleAsset& asset) {
  const std::string type = ContentType(asset.name);
  const std::string etag = ETag(asset.bytes);
  const std::string_view bytes = asset.bytes;
  httplib::Server::Handler serve = [type, etag, bytes](const httplib::Request& request,
                                                       httplib::Response& response) {
    // Revalidated on every load, so a new broker's page is never mixed
    // with an old one's script; unchanged files cost a 304.
    response.set_header("Cache-Control", "no-cache");
    response.set_header("ETag", etag);
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_header("Content-Security-Policy",
                        "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
                        "form-action 'none'; frame-ancestors 'none'");
    if (request.get_header_value("If-None-Match") == etag) {
      response.status = 304;
      return;
    }
    response.set_content(bytes.data(), bytes.size(), type);
  };
  std::string path = "/";
  path.append(asset.name);
  routes.Get(absl::StrReplaceAll(path, {{".", "\\."}}), serve);
  if (asset.name == "index.html") routes.Get("/", serve);
}

}  // namespace

void RegisterConsole(httplib::Server& routes, Broker& broker, const BrokerProcess& process,
                     WatchHub& hub, ConsoleOptions options) {
  for (const ConsoleAsset& asset : ConsoleAssets()) RegisterAsset(routes, asset);

  routes.Get("/api/status", [&broker, &process](const httplib::Request& request,
                                               httplib::Response& response) {
    ConsoleParams params(request);
    if (!params.Only({})) {
      return ReplyError(response, 400, params.error(), params.parameter());
    }
    ReplyJson(response, DescribeBroker(broker, process));
  });

  routes.Get("/api/sessions", [&broker](const httplib::Request& request,
                                        httplib::Response& response) {
    ConsoleParams params(request);
    uint64_t after = 0;
    uint64_t limit = 0;
    if (!params.Only({"after", "limit"}) ||
        !params.Uint("after", std::numeric_limits<uint64_t>::max(), after) ||
        !params.Uint("limit", kMaxListLimit, limit)) {
      return ReplyError(response, 400, params.error(), params.parameter());
    }
    v1::ListSessionsRequest list;
    list.set_after(after);
    list.set_limit(static_cast<uint32_t>(limit));
    v1::ListSessionsResponse out;
    if (absl::Status listed = ListSessions(broker, list, out); !listed.ok()) {
      return ReplyError(response, listed);
    }
    ReplyJson(response, out);
  });

  routes.Get("/api/primitives", [&broker](const httplib::Request& request,
                                          httplib::Response& response) {
    ConsoleParams params(request);
    v1::ListPrimitivesRequest list;
    std::string prefix;
    std::string after;
    v1::PrimitiveType type = v1::PRIMITIVE_TYPE_UNSPECIFIED;
    uint64_t limit = 0;
    if (!params.Only({"prefix", "type", "after", "limit"}) || !params.Text("prefix", prefix) ||
        !params.Type("type", type) || !params.Text("after", after) ||
        !params.Uint("limit", kMaxListLimit, limit)) {
      return ReplyError(response, 400, params.error(), params.parameter());
    }
    list.set_prefix(prefix);
    list.set_type(type);
    list.set_after(after);
    list.set_limit(static_cast<uint32_t>(limit));
    v1::ListPrimitivesResponse out;
    if (absl::Status listed = ListPrimitives(broker, list, out); !listed.ok()) {
      return ReplyError(response, listed);
    }
    ReplyJson(response, out);
  });

  RegisterEventStream(routes, broker, hub, options.events);
}

}  // namespace atomix::broker
