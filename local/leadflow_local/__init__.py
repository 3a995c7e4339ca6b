"""The Docker-free local stack behind `make dev`: moto server, HTTP front, pollers, clock. Never deployed."""
