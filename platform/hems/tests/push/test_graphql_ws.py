"""graphql-transport-ws at /graphql/: authentication, the protocol's rules, the API's
limits, and energyStats/devices pushed after a real tick, one owner's data per stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from graphql_jwt.shortcuts import get_token

from hems.push import apublish_changes, presence
from hems.simulation.tick import run_tick
from hems.tests.factories import make_device
from hems.tests.push.conftest import DEVICES, STATS, Client, in_thread, run, tick

pytestmark = pytest.mark.django_db(transaction=True)

INSTANT = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)


def test_a_subscriber_gets_its_stats_at_once_and_after_each_tick(user, home):
    async def scenario():
        client = Client()
        assert (await client.init(user))["type"] == "connection_ack"
        await client.subscribe("s1", STATS)
        first = await client.receive()
        assert first["id"] == "s1" and first["type"] == "next"
        assert first["payload"]["data"]["energyStats"]["netGridFlow"] == 0  # before any tick
        await tick(INSTANT)  # another thread, as the worker: publishes after its commit
        pushed = await client.receive()
        stats = pushed["payload"]["data"]["energyStats"]
        assert pushed["type"] == "next" and stats["timestamp"] == INSTANT.isoformat()
        assert stats["currentProduction"] > 0 and stats["currentConsumption"] > 0
        await client.close()

    run(scenario())


def test_pushed_figures_are_the_apis_figures(user, home, api):
    run_tick(INSTANT)
    http = api.data("{ energyStats { currentProduction currentConsumption netGridFlow timestamp } }", user=user)

    async def scenario():
        client = Client()
        await client.init(user)
        await client.subscribe("s", STATS)
        pushed = (await client.receive())["payload"]["data"]
        await client.close()
        return pushed

    assert run(scenario()) == http


def test_one_users_stream_never_carries_anothers_data(user, other_user):
    mine = make_device(user, _first_kind())
    theirs = make_device(other_user, _first_kind())

    async def scenario():
        alice, bob = Client(), Client()
        await alice.init(user)
        await bob.init(other_user)
        await alice.subscribe("d", DEVICES)
        await bob.subscribe("d", DEVICES)
        assert [d["id"] for d in (await alice.receive())["payload"]["data"]["devices"]] == [str(mine.pk)]
        assert [d["id"] for d in (await bob.receive())["payload"]["data"]["devices"]] == [str(theirs.pk)]
        # Bob's device changes and is published for Bob only: Alice hears nothing of it.
        await in_thread(_rename, theirs, "bob's renamed")
        await apublish_changes([other_user.pk])
        update = (await bob.receive())["payload"]["data"]["devices"]
        assert [(d["id"], d["name"]) for d in update] == [(str(theirs.pk), "bob's renamed")]
        assert await alice.nothing()
        # A tick over both homes: each stream has its own owner's devices only.
        await tick(INSTANT)
        assert [d["id"] for d in (await alice.receive())["payload"]["data"]["devices"]] == [str(mine.pk)]
        assert [d["id"] for d in (await bob.receive())["payload"]["data"]["devices"]] == [str(theirs.pk)]
        await alice.close()
        await bob.close()

    run(scenario())


def test_devices_lists_all_of_them_again_when_one_is_deleted(user):
    first, second = make_device(user, _first_kind()), make_device(user, _first_kind())

    async def scenario():
        client = Client()
        await client.init(user)
        await client.subscribe("d", DEVICES)
        assert {d["id"] for d in (await client.receive())["payload"]["data"]["devices"]} == {
            str(first.pk),
            str(second.pk),
        }
        await in_thread(first.delete)
        await apublish_changes([user.pk])
        assert [d["id"] for d in (await client.receive())["payload"]["data"]["devices"]] == [str(second.pk)]
        # A change published but nothing different to send: no message.
        await apublish_changes([user.pk])
        assert await client.nothing()
        await client.close()

    run(scenario())


def test_a_device_change_is_pushed_when_it_commits_not_at_the_next_tick(user):
    device = make_device(user, _first_kind())

    async def scenario():
        client = Client()
        await client.init(user)
        await client.subscribe("d", DEVICES)
        await client.receive()
        # No tick and no explicit publish: the save's commit tells the subscribers.
        await in_thread(_rename, device, "renamed in the admin")
        update = (await client.receive())["payload"]["data"]["devices"]
        assert [(d["id"], d["name"]) for d in update] == [(str(device.pk), "renamed in the admin")]
        await client.close()

    run(scenario())


@pytest.mark.parametrize(
    "payload",
    [None, {}, {"Authorization": "not-bearer"}, {"Authorization": "Bearer "}, {"Authorization": "Bearer nonsense"}],
)
def test_no_token_or_a_bad_one_closes_with_4401(payload):
    async def scenario():
        client = Client()
        await client.connect()
        await client.send({"type": "connection_init", "payload": payload})
        return await client.closed()

    assert run(scenario()) == 4401


def test_an_expired_token_or_an_inactive_users_is_refused(user):
    expired = get_token(user, exp=int((datetime.now(UTC) - timedelta(minutes=1)).timestamp()))
    valid = get_token(user)
    user.is_active = False
    user.save()

    async def scenario(token):
        client = Client()
        await client.connect()
        await client.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        return await client.closed()

    assert run(scenario(expired)) == 4401
    assert run(scenario(valid)) == 4401


def test_the_stream_ends_when_its_token_expires(user):
    soon = get_token(user, exp=int(datetime.now(UTC).timestamp()) + 2)

    async def scenario():
        client = Client()
        assert (await client.init(token=soon))["type"] == "connection_ack"
        await client.subscribe("s", STATS)
        assert (await client.receive())["type"] == "next"
        return await client.closed(timeout=5)

    assert run(scenario()) == 4401


def test_subscribing_before_connection_init_closes_with_4401():
    async def scenario():
        client = Client()
        await client.connect()
        await client.subscribe("s", STATS)
        return await client.closed()

    assert run(scenario()) == 4401


def test_without_the_subprotocol_the_connection_is_closed_with_4406():
    async def scenario():
        client = Client(subprotocols=["graphql-ws"])
        await client.connect()
        return await client.closed()

    assert run(scenario()) == 4406


def test_protocol_violations_close_with_their_codes(user):
    async def violating(*messages):
        client = Client()
        await client.init(user)
        for message in messages:
            if isinstance(message, str):
                await client.ws.send_to(text_data=message)
            else:
                await client.send(message)
        while True:
            output = await client.ws.receive_output(timeout=5)
            if output["type"] == "websocket.close":
                return output["code"]

    assert run(violating("{not json")) == 4400
    assert run(violating({"type": "mystery"})) == 4400
    assert run(violating({"type": "connection_init", "payload": {}})) == 4429
    subscribe = {"id": "same", "type": "subscribe", "payload": {"query": STATS}}
    assert run(violating(subscribe, subscribe)) == 4409


def test_connection_init_must_come_in_time(settings):
    settings.HEMS_PUSH_INIT_TIMEOUT = 0.2

    async def scenario():
        client = Client()
        await client.connect()
        return await client.closed()

    assert run(scenario()) == 4408


@pytest.mark.parametrize(
    "query, code",
    [
        ("{ energyStats { netGridFlow } }", "BAD_REQUEST"),  # a query: POST /graphql/
        ("subscription { energyStats { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("subscription { energyStats { " + "netGridFlow " * 300 + "} }", "QUERY_TOO_COMPLEX"),
        ("subscription { devices { " + "id " * 3000 + "} }", "QUERY_TOO_COMPLEX"),  # too long
        ("subscription { __schema { types { name } } }", "GRAPHQL_VALIDATION_FAILED"),
        ("subscription {", "GRAPHQL_PARSE_FAILED"),
    ],
)
def test_the_apis_rules_and_limits_apply_and_the_connection_lives_on(user, query, code):
    async def scenario():
        client = Client()
        await client.init(user)
        await client.subscribe("bad", query)
        refused = await client.receive()
        await client.send({"type": "ping"})
        pong = await client.receive()
        await client.close()
        return refused, pong

    refused, pong = run(scenario())
    assert refused["type"] == "error" and refused["id"] == "bad"
    assert {error.get("extensions", {}).get("code") for error in refused["payload"]} == {code}, refused
    assert pong == {"type": "pong"}


def test_a_connection_holds_a_bounded_number_of_subscriptions(user, settings):
    settings.HEMS_PUSH_MAX_SUBSCRIPTIONS = 2

    async def scenario():
        client = Client()
        await client.init(user)
        for id in ("a", "b"):
            await client.subscribe(id, STATS)
            assert (await client.receive())["type"] == "next"
        await client.subscribe("c", STATS)
        refused = await client.receive()
        await client.send({"id": "a", "type": "complete"})  # one ends: room for another
        await client.subscribe("d", STATS)
        accepted = await client.receive()
        await client.close()
        return refused, accepted

    refused, accepted = run(scenario())
    assert refused["type"] == "error" and "At most 2 subscriptions" in refused["payload"][0]["message"]
    assert accepted["id"] == "d" and accepted["type"] == "next"


def test_a_page_of_another_site_is_refused_but_a_client_without_origin_is_not(user):
    async def handshake(headers):
        client = Client(headers=headers)
        connected, _ = await client.ws.connect(timeout=5)
        await client.close()
        return connected

    assert run(handshake([(b"origin", b"https://evil.example")])) is False
    assert run(handshake([(b"origin", b"http://localhost:8000")])) is True
    assert run(handshake([])) is True


def test_the_subscriber_is_marked_present_so_the_tick_publishes_to_it(user, other_user):
    async def scenario():
        client = Client()
        await client.init(user)
        subscribed = await in_thread(presence.subscribed, [user.pk, other_user.pk])
        await client.close()
        return subscribed

    assert run(scenario()) == [user.pk]  # nobody listens to the other owner: no group_send for it


def _first_kind() -> str:
    from hems.tests.factories import kind_keys

    return kind_keys()[0]


def _rename(device, name):
    device.name = name
    device.save()
