"""Test doubles for code that uses aioqiscus."""
