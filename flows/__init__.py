"""The merchant-facing domain: flows, answers, diagnosis and the settlement calendar.

Nothing here performs I/O or imports telegram, sqlalchemy or jinja2, so every rule can be
tested, drawn and reasoned about without a network or a database.
"""
