"""The core's HTTP routes."""
