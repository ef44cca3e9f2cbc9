"""Adapting to a user's own SQLite database: a Korean glossary for its schema, then checked question/SQL pairs
synthesized from the bundled sample's templates with the values really in the database (issue #19).

    schema.py      what the database holds: tables, columns, keys, rows (read-only, through the sandbox)
    glossary.py    the Korean words for its tables and columns: DDL comments, a CSV, the Data tab's table
    domain.py      the schema + glossary as the sample's schema model (roles, units inferred; overridable)
    synthesize.py  pairs executed and filtered, saved as a data set version with its provenance
"""
