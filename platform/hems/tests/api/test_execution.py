"""hems's execution (hems.api.execution) answers exactly what graphql-core's own does:
the same data and the same errors, in the same places, for values that take its quick
path and for those that must not (null where a value is required, values a scalar
cannot serialize, resolvers of their own, middleware), and for lists of objects read in
one loop as for those with an item graphql-core must complete."""

from __future__ import annotations

from datetime import UTC, datetime

import graphene
import pytest
from graphql import ExecutionContext, GraphQLObjectType, execute, get_named_type, is_leaf_type, parse

from hems.api import view
from hems.api.execution import Execution, awaitable
from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, make_device


class GraphqlCore(ExecutionContext):
    """graphql-core's execution as it is (with the same quick awaitable check)."""

    is_awaitable = staticmethod(awaitable)


class Color(graphene.Enum):
    RED = 1
    BLUE = 2


class Item(graphene.ObjectType):
    name = graphene.String(required=True)
    weight = graphene.Float(required=True)
    count = graphene.Int()
    color = Color()
    seen = graphene.DateTime()
    note = graphene.String()
    scaled = graphene.Float(factor=graphene.Float(default_value=2.0))

    @staticmethod
    def resolve_note(item, info):
        return f"own resolver for {item.name if isinstance(item, Item) else item['name']}"

    @staticmethod
    def resolve_scaled(item, info, factor):
        return 1.5 * factor


SEEN = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
ROWS = [
    Item(name="plain", weight=1.5, count=2, color=1, seen=SEEN),
    {"name": "a dict", "weight": 2, "count": None, "color": 2, "seen": None},
    Item(name="no weight", weight=None),  # required: the item becomes null, with an error
    Item(name="bad weight", weight="heavy"),  # cannot serialize: an error
    Item(name="too many", weight=1.0, count=2**40),  # not a 32-bit Int: null and an error
    Item(name=7, weight=True, count=False),  # coerced as graphql-core coerces them
    Item(name="nan", weight=float("nan")),  # not a number: an error
    Item(name="bad color", weight=0.0, color=3),  # not in the enum: an error
]

PLAIN = [ROWS[0], ROWS[1], {"name": "another", "weight": 0.25, "count": -3, "color": 1, "seen": SEEN}]


class Box(graphene.ObjectType):
    label = graphene.String(required=True)
    item = graphene.Field(Item)


class Query(graphene.ObjectType):
    items = graphene.List(Item)
    first = graphene.Field(Item, required=True)
    plain_items = graphene.List(graphene.NonNull(Item), required=True)
    with_null = graphene.List(Item)  # a null item is null in the answer
    null_in_required = graphene.List(graphene.NonNull(Item))  # ... and an error here
    boxes = graphene.List(Box)  # objects within objects

    @staticmethod
    def resolve_plain_items(root, info):
        return PLAIN

    @staticmethod
    def resolve_with_null(root, info):
        return [PLAIN[0], None, PLAIN[2]]

    @staticmethod
    def resolve_null_in_required(root, info):
        return [PLAIN[0], None]

    @staticmethod
    def resolve_boxes(root, info):
        return [{"label": "a", "item": PLAIN[0]}, {"label": "b", "item": None}, {"label": "c", "item": ROWS[2]}]

    @staticmethod
    def resolve_items(root, info):
        return ROWS

    @staticmethod
    def resolve_first(root, info):
        return ROWS[2]  # its null weight nulls the required field, and so the whole answer


SCHEMA = graphene.Schema(query=Query).graphql_schema
DOCUMENTS = [
    "{ items { name weight count color seen note scaled(factor: 3) __typename } }",
    "{ items { n: name w: weight name } }",
    "{ items { ... on Item { name count } ...more } } fragment more on Item { weight color }",
    "{ first { name weight } items { name } }",
    "{ plainItems { name weight count color seen } n: plainItems { w: weight name } nullInRequired { name } }",
    "{ withNull { name weight } plainItems { ... on Item { count } name } }",
    "{ plainItems { name __typename } boxes { label item { name weight } } }",
]


def outcome(result) -> tuple:
    errors = [(error.message, error.path) for error in result.errors or []]
    return result.data, sorted(errors, key=repr)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_same_answer_and_errors_as_graphql_core(document):
    quick = execute(SCHEMA, parse(document), execution_context_class=Execution)
    core = execute(SCHEMA, parse(document), execution_context_class=GraphqlCore)
    assert outcome(quick) == outcome(core)
    assert core.errors or not ("first" in document or "nullIn" in document or "boxes" in document)


def test_scalars_read_off_their_object_skip_graphql_core_unless_they_fail(monkeypatch):
    reached = []
    original = ExecutionContext.execute_field

    def counted(self, parent_type, source, field_nodes, path):
        reached.append(field_nodes[0].name.value)
        return original(self, parent_type, source, field_nodes, path)

    monkeypatch.setattr(ExecutionContext, "execute_field", counted)
    execute(SCHEMA, parse("{ items { name weight note } }"), execution_context_class=Execution)
    # The list, and the own resolver of every item still standing (the three whose
    # required weight fails are null: their next field is not asked); of the weights, the
    # null one and the two that do not serialize ("heavy", NaN); no name.
    assert reached.count("items") == 1 and reached.count("note") == len(ROWS) - 3
    assert reached.count("weight") == 3 and reached.count("name") == 0


def test_a_list_of_objects_read_off_in_one_loop_completes_no_item_in_graphql_core(monkeypatch):
    reached = []
    for method in ("execute_field", "complete_value"):
        original = getattr(ExecutionContext, method)

        def counted(self, *args, _original=original, _method=method):
            reached.append(_method)
            return _original(self, *args)

        monkeypatch.setattr(ExecutionContext, method, counted)
    result = execute(SCHEMA, parse("{ plainItems { name weight seen } }"), execution_context_class=Execution)
    assert result.errors is None and len(result.data["plainItems"]) == len(PLAIN)
    assert result.data["plainItems"][2] == {"name": "another", "weight": 0.25, "seen": SEEN.isoformat()}
    # The list's field, and its completion (NonNull, then the list): nothing per item.
    assert reached.count("execute_field") == 1 and reached.count("complete_value") == 2


def test_middleware_still_sees_every_field():
    seen = []

    def spy(next_, root, info, **args):
        seen.append(info.field_name)
        value = next_(root, info, **args)
        return value.upper() if isinstance(value, str) else value

    document = parse("{ items { name weight } }")
    quick = execute(SCHEMA, document, execution_context_class=Execution, middleware=[spy])
    quick_seen, seen[:] = list(seen), []
    core = execute(SCHEMA, document, execution_context_class=GraphqlCore, middleware=[spy])
    assert outcome(quick) == outcome(core) and quick_seen == seen
    assert quick.data["items"][0]["name"] == "PLAIN"


def every_device_field() -> str:
    """allDevices with every scalar of every kind, and each device's history by HOUR."""
    schema = view.graphene_settings.SCHEMA.graphql_schema
    device = schema.type_map["Device"]
    fragments = []
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType) and device in type_.interfaces:
            leaves = [name for name, field in type_.fields.items() if is_leaf_type(get_named_type(field.type))]
            fragments.append(f"... on {type_.name} {{ {' '.join(leaves)} }}")
    history = "energyHistory(start: $start, end: $end, interval: HOUR) { start energyWh chargeWh dischargeWh levelWh }"
    return f"allDevices {{ __typename {' '.join(fragments)} {history} }}"


@pytest.mark.django_db
def test_the_api_answers_the_same_either_way(api, user, monkeypatch):
    """Every kind's scalars, its history, the home's stats and history, through the view."""
    for key in kind_keys():
        make_device(user, key)
    for minute in range(0, 75, 15):
        run_tick(datetime(2026, 6, 22, 9, minute % 60, tzinfo=UTC).replace(hour=9 + minute // 60))
    query = f"""query($start: DateTime!, $end: DateTime!) {{
        {every_device_field()}
        energyStats {{ currentProduction currentConsumption netGridFlow timestamp
                       currentStorage {{ percentage totalCapacityWh currentLevelWh }} }}
        energyHistory(start: $start, end: $end, interval: HOUR) {{
            start productionWh consumptionWh storageChargeWh storageDischargeWh gridImportWh gridExportWh }}
        me {{ username }}
    }}"""
    variables = {"start": "2026-06-22T00:00:00Z", "end": "2026-06-23T00:00:00Z"}
    quick = api.execute(query, variables, user=user)
    monkeypatch.setattr(view, "Execution", GraphqlCore)
    core = api.execute(query, variables, user=user)
    assert "errors" not in quick and quick == core
    assert len(quick["data"]["allDevices"]) == len(kind_keys())
