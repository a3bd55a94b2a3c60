"""Helpers shared by several test modules (servers, leak checks)."""
