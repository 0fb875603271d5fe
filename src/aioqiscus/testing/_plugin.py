"""pytest plugin for aioqiscus users (fixtures arrive with the fake server)."""
