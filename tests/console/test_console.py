"""The web console in Debian's chromium, against the real broker and SDK."""

import json

from conftest import free_port

# Set once a page has loaded; still set later only if the page never reloaded.
MARK = "window.__atomixMark = 'loaded'"
MARKED = "window.__atomixMark === 'loaded'"


def q(selector):
    """A JavaScript expression: whether `selector` matches an element."""
    return f"document.querySelector({json.dumps(selector)}) !== null"


def event_revisions(page):
    """The revisions of the event pane's rows, oldest first."""
    return page.evaluate(
        "Array.from(document.querySelectorAll('#events li[data-revision]'))"
        ".map(li => Number(li.dataset.revision)).reverse()")


def test_shows_lock_holder_with_its_fence(broker, client, browser, artifacts):
    holder = client.hold(broker.endpoint, "lock", "jobs/db-writer", "600")
    fence = int(client.first_line(holder).split()[1])
    waiter = client.hold(broker.endpoint, "lock", "jobs/db-writer", "600")
    leader = client.hold(broker.endpoint, "elect", "scheduler", "node-1", "600")
    term = int(client.first_line(leader).split()[1])
    client.hold(broker.endpoint, "elect", "scheduler", "node-2", "600")
    client.put(broker.endpoint, "config", "region", "eu-west")
    client.put(broker.endpoint, "config", "replicas", "3")

    page = browser.page
    page.navigate(broker.url + "/")
    lock = '#locks .lock[data-name="jobs/db-writer"]'
    page.wait_for(q(f'{lock} li.holder[data-fence="{fence}"]'), f"the holder with fence {fence}")
    text = page.evaluate(f"document.querySelector('{lock} li.holder').textContent")
    assert f"fence {fence}" in text
    page.wait_for(q(f"{lock} li.waiter"), "the lock's waiter")
    assert waiter.poll() is None  # still waiting in the queue
    # The holder's session lists the lock with the same fence.
    page.wait_for(q(f'#sessions li[data-name="jobs/db-writer"][data-fence="{fence}"]'),
                  "the holding session")
    election = '#elections .election[data-name="scheduler"]'
    page.wait_for(q(f'{election} li.leader[data-fence="{term}"]'), f"the leader of term {term}")
    assert "node-1" in page.evaluate(f"document.querySelector('{election} li.leader').textContent")
    page.wait_for(q(f"{election} li.candidate"), "the other candidate")
    assert page.evaluate("document.getElementById('s-store').textContent") == "disk"
    assert page.evaluate("document.getElementById('s-role').textContent") == "standalone"
    page.wait_for("document.getElementById('conn').textContent === 'serving'", "serving")
    # Follow the map from the page's own form, and see a change arrive.
    page.evaluate("document.getElementById('watch-name').value = 'config';"
                  "document.getElementById('watch-form').requestSubmit()")
    page.wait_for("document.getElementById('watch-state').textContent.startsWith('Live:')",
                  "the event stream")
    changed = client.put(broker.endpoint, "config", "replicas", "5")
    page.wait_for(q(f'#events li[data-revision="{changed}"][data-kind="UPDATED"]'),
                  "the update in the event pane")
    assert page.evaluate("location.hash") == "#watch=config"
    page.wait_for(f"Number(document.getElementById('s-revision').dataset.revision) >= {changed}",
                  "the header to show the new revision")
    page.screenshot("console-overview.png")
    assert page.errors == []


def test_updates_live_without_reload(broker, client, browser, artifacts):
    first = client.put(broker.endpoint, "orders", "o-1", "new")
    page = browser.page
    page.navigate(broker.url + "/#watch=orders")
    page.evaluate(MARK)
    page.wait_for("document.getElementById('watch-state').textContent.startsWith('Live:')",
                  "the event stream")
    assert event_revisions(page) == []  # it starts after the current revision

    second = client.put(broker.endpoint, "orders", "o-2", "paid")
    page.wait_for(q(f'#events li[data-revision="{second}"]'), f"the event of revision {second}")
    row = page.evaluate(f"document.querySelector('#events li[data-revision=\"{second}\"]').textContent")
    assert "INSERTED" in row and 'o-2 = "paid"' in row
    # The lists follow too: a map created after the page loaded appears.
    client.put(broker.endpoint, "orders-archive", "o-0", "closed")
    page.wait_for(q('#primitives tr[data-name="orders-archive"][data-type="MAP"]'),
                  "the new map in the list")
    assert event_revisions(page) == [second]
    assert first < second
    # The prefix box narrows the list as one types.
    page.evaluate("{ const box = document.getElementById('prefix'); box.value = 'orders-';"
                  "box.dispatchEvent(new Event('input')); }")
    orders_row = q('#primitives tr[data-name="orders"]')
    page.wait_for(f"!({orders_row})", "the list to narrow")
    assert page.evaluate("Array.from(document.querySelectorAll('#primitives tr[data-name]'))"
                         ".map(tr => tr.dataset.name)") == ["orders-archive"]
    assert page.evaluate("location.hash") == "#watch=orders&prefix=orders-"
    assert page.evaluate(MARKED), "the page reloaded"
    page.screenshot("console-live.png")
    assert page.errors == []


def test_event_pane_resumes_across_a_broker_restart(broker_factory, client, browser, artifacts):
    broker = broker_factory().start(http_port=free_port())
    http_port = broker.http_port
    client.put(broker.endpoint, "orders", "o-1", "new")
    page = browser.page
    page.navigate(broker.url + "/#watch=orders")
    page.evaluate(MARK)
    page.wait_for("document.getElementById('watch-state').textContent.startsWith('Live:')",
                  "the event stream")
    before = [client.put(broker.endpoint, "orders", f"o-{i}", "a") for i in (2, 3)]
    page.wait_for(q(f'#events li[data-revision="{before[-1]}"]'), "the events before the restart")

    broker.stop()
    page.wait_for("document.getElementById('watch-state').textContent.startsWith('Connection lost')",
                  "the page to see the broker go")
    broker.start(http_port=http_port)  # the same data dir and HTTP port
    # Written while the page is still reconnecting: it must get them from
    # the history, after the last revision it saw.
    after = [client.put(broker.endpoint, "orders", f"o-{i}", "b") for i in (4, 5)]
    page.wait_for(q(f'#events li[data-revision="{after[-1]}"]'), "the events after the restart")
    later = client.put(broker.endpoint, "orders", "o-6", "c")
    page.wait_for(q(f'#events li[data-revision="{later}"]'), "a live event after the restart")

    # Every change of "orders" since the page started watching, once each,
    # in order: no duplicate and no gap.
    assert event_revisions(page) == before + after + [later]
    assert not page.evaluate(q("#events li.note")), "the stream asked for a reload"
    assert page.evaluate(MARKED), "the page reloaded"
    page.screenshot("console-resumed.png")
    assert page.errors == []
