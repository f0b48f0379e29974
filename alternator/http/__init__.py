"""The pure parts of the HTTP front end (no aiohttp): response compression, CORS, and the
per-request outcome record with the access log that consumes it. alternator/server.py uses
them."""
