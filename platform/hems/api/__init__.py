"""The GraphQL API, assembled at start-up from the registered drivers."""
