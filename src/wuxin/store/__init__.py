"""The only package that imports SQLAlchemy: tables, engine, unit of work, migrations."""
