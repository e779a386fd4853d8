"""Alembic's migrations of every package's tables (env.py, versions/), and the registry of
those tables (registry.py): the one place that imports every domain's models."""
