"""A UCWA 2.0 server simulator (ASGI, Starlette); imports neither Qt nor the client."""
