"""Infrastructure every layer may run on: the embedded redis-server, the Redis lease."""
