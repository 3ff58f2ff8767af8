"""Live push: tell subscribers that some owners' stats or devices changed.

Producers call :func:`publish_changes` after their commit (the tick after each shard,
the live-device ingest after each batch). Subscribers are GraphQL subscriptions served
over WebSocket (graphql-transport-ws at /graphql/, hems.push.graphql_ws) and over SSE
(POST /graphql/stream, hems.push.sse); see DESIGN.md, "Push".
"""

from hems.push.publish import apublish_changes, group_name, publish_changes

__all__ = ["apublish_changes", "group_name", "publish_changes"]
