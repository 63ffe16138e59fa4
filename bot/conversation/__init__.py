"""The one conversation every channel drives: the service, its replies' rendering and delivery
queue (the outbox), slip reading, records lookups between turns, and personal-data erasure."""
