"""Bad input raises the matching exception with the broker's message."""

import pytest

import atomix


def test_empty_name(client):
    with pytest.raises(atomix.InvalidArgumentError) as e:
        client.counter("").get()
    assert "name" in str(e.value)
    assert e.value.code.name == "INVALID_ARGUMENT"
    with pytest.raises(atomix.InvalidArgumentError) as e:
        client.map("").put("k", b"v")
    assert "name" in str(e.value)


def test_watch_bad_name(client):
    with pytest.raises(atomix.InvalidArgumentError) as e:
        client.map("x" * 300).watch()
    assert "256" in str(e.value) or "name" in str(e.value)


def test_empty_key(client):
    with pytest.raises(atomix.InvalidArgumentError) as e:
        client.map("m").put("", b"v")
    assert "key" in str(e.value)


def test_type_conflict(client):
    client.counter("jobs").increment()
    with pytest.raises(atomix.FailedPreconditionError) as e:
        client.value("jobs").set(b"x")
    assert "counter" in str(e.value) and "value" in str(e.value)


def test_bad_session_ttl(make_client):
    c = make_client(session_ttl=0.1)
    with pytest.raises(atomix.InvalidArgumentError) as e:
        c.counter("c").increment()
    assert "ttl" in str(e.value).lower()


def test_bad_client_options():
    with pytest.raises(atomix.InvalidArgumentError):
        atomix.Client("")
    with pytest.raises(atomix.InvalidArgumentError):
        atomix.Client("127.0.0.1:1", timeout=0)


def test_unreachable_broker_names_the_endpoint():
    with atomix.Client("127.0.0.1:1", timeout=1) as c:
        with pytest.raises(atomix.UnavailableError) as e:
            c.counter("c").get()
    assert "127.0.0.1:1" in str(e.value)
