"""Domain services. The API, pages, worker, crawler and CLI call these; none of them
holds business rules of its own. Services take a Session and an actor (User or None
for system work), flush but never commit: the caller owns the unit of work."""
