"""The aiohttp application: REST, GraphQL, SSE, WebSocket, metrics and pages."""
