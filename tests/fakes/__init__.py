"""Fakes that speak real protocols over real sockets, for the integration tests."""
