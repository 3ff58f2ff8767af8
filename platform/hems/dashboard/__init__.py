"""The homeowner's dashboard: server-rendered pages over the history and the live stream."""
