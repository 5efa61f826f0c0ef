"""The console's JSON API and event stream, over plain HTTP against the real
broker (no browser)."""

import http.client
import json
import time

import pytest

from conftest import DEADLINE


def test_status_and_lists(broker, client):
    version = client.put(broker.endpoint, "config", "region", "eu-west")
    status, body = broker.get_json("/api/status")
    assert status == 200
    assert body["store"] == "disk"
    assert body["role"] == "standalone"
    assert body["serving"] is True
    assert int(body["revision"]) >= version
    assert body["primitives"] == "1"

    status, body = broker.get_json("/api/primitives?prefix=conf&type=map")
    assert status == 200
    assert [(p["name"], p["type"]) for p in body["primitives"]] == [("config", "MAP")]
    assert body["more"] is False
    status, body = broker.get_json("/api/primitives?type=lock")
    assert (status, body["primitives"]) == (200, [])
    status, body = broker.get_json("/api/sessions?limit=10")
    assert status == 200 and body["sessions"] == []  # the client closed its session


@pytest.mark.parametrize("path, parameter", [
    ("/api/sessions?limit=abc", "limit"),
    ("/api/sessions?limit=1001", "limit"),
    ("/api/sessions?after=-1", "after"),
    ("/api/sessions?limit=1&limit=2", "limit"),
    ("/api/primitives?type=bogus", "type"),
    ("/api/primitives?nope=1", "nope"),
    ("/api/status?x=1", "x"),
    ("/api/events", "name"),
    ("/api/events?name=m&from=0", "from"),
    ("/api/events?name=m&type=map&key=", "key"),
])
def test_bad_parameters_get_400_naming_them(broker, path, parameter):
    status, body = broker.get_json(path)
    assert status == 400, body
    assert body["parameter"] == parameter
    assert parameter in body["error"]


def test_unknown_and_mistyped_names(broker, client):
    client.put(broker.endpoint, "config", "k", "v")
    status, body = broker.get_json("/api/events?name=missing")
    assert status == 404 and body["parameter"] == "name"
    status, body = broker.get_json("/api/events?name=config&type=counter")
    assert status == 409, body


def test_page_files_are_served_with_types_and_caching(broker):
    for path, content_type in [("/", "text/html; charset=utf-8"),
                               ("/console.css", "text/css; charset=utf-8"),
                               ("/console.js", "text/javascript; charset=utf-8")]:
        status, headers, body = broker.get(path)
        assert status == 200
        assert headers["Content-Type"] == content_type
        assert headers["Cache-Control"] == "no-cache"
        assert len(body) > 100
        status, _, _ = broker.get(path, {"If-None-Match": headers["ETag"]})
        assert status == 304
    _, _, page = broker.get("/")
    assert b'src="console.js"' in page and b"http" not in page.replace(b"http-equiv", b"")


class EventStream:
    """A raw text/event-stream reader."""

    def __init__(self, broker, query, headers=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", broker.http_port, timeout=DEADLINE)
        self.conn.request("GET", "/api/events?" + query, headers=headers or {})
        self.response = self.conn.getresponse()
        self.status = self.response.status

    def next(self):
        """The next message as a dict of its fields (comments skipped)."""
        fields = {}
        while True:
            line = self.response.fp.readline().decode()
            assert line, "the stream ended"
            line = line.rstrip("\r\n")
            if not line:
                if fields:
                    return fields
                continue
            if line.startswith(":"):
                continue
            key, _, value = line.partition(": ")
            fields[key] = value

    def close(self):
        self.conn.close()


def test_event_stream_resumes_from_a_revision(broker, client):
    revisions = [client.put(broker.endpoint, "m", f"k{i}", "v") for i in range(3)]
    stream = EventStream(broker, f"name=m&from={revisions[0]}")
    assert stream.status == 200
    assert stream.response.getheader("Content-Type") == "text/event-stream"
    hello = stream.next()
    assert hello["event"] == "hello"
    assert json.loads(hello["data"])["from"] == revisions[0]
    got = [int(stream.next()["id"]) for _ in revisions]
    assert got == revisions
    live = client.put(broker.endpoint, "m", "k3", "v")
    message = stream.next()
    assert int(message["id"]) == live
    event = json.loads(message["data"])
    assert (event["type"], event["revision"]) == ("INSERTED", str(live))
    stream.close()

    # The browser's reconnection: Last-Event-ID wins over from.
    stream = EventStream(broker, f"name=m&type=map&from={revisions[0]}",
                         {"Last-Event-ID": str(revisions[1])})
    assert json.loads(stream.next()["data"])["from"] == revisions[1] + 1
    assert [int(stream.next()["id"]) for _ in range(2)] == [revisions[2], live]
    stream.close()


def test_compacted_history_asks_for_a_reload(broker_factory, client):
    broker = broker_factory(["--watch-history", "2"]).start()
    revisions = [client.put(broker.endpoint, "m", f"k{i}", "v") for i in range(4)]
    stream = EventStream(broker, f"name=m&from={revisions[0]}")
    stream.next()  # hello
    reload = stream.next()
    assert reload["event"] == "reload"
    data = json.loads(reload["data"])
    assert data["reason"] == "compacted"
    assert int(reload["id"]) == data["revision"] >= revisions[-1]
    live = client.put(broker.endpoint, "m", "k9", "v")
    assert int(stream.next()["id"]) == live
    stream.close()


def test_another_broker_incarnation_asks_for_a_reload(broker, client):
    revision = client.put(broker.endpoint, "m", "k", "v")
    stream = EventStream(broker, f"name=m&from={revision}&broker=someone-else")
    assert stream.next()["event"] == "hello"
    assert json.loads(stream.next()["data"])["reason"] == "new_broker"
    stream.close()


def test_event_streams_are_bounded_and_freed(broker, client):
    client.put(broker.endpoint, "m", "k", "v")
    streams = [EventStream(broker, "name=m") for _ in range(4)]
    assert [s.status for s in streams] == [200] * 4
    refused = EventStream(broker, "name=m")
    assert refused.status == 503
    assert refused.response.getheader("Retry-After") == "5"
    assert "event streams" in json.loads(refused.response.read())["error"]
    refused.close()
    # Metrics and pages still have threads.
    assert broker.get("/api/status")[0] == 200
    # A client that goes away frees its slot.
    streams.pop().close()
    deadline = time.monotonic() + DEADLINE
    while True:
        again = EventStream(broker, "name=m")
        if again.status == 200:
            break
        again.close()
        assert time.monotonic() < deadline, "the closed stream's slot was never freed"
        time.sleep(0.2)
    again.close()
    for s in streams:
        s.close()
