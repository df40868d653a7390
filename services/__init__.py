"""Domain services: the one code path the API, the admin command and the demo call."""
