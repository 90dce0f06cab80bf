"""The web interface at ``/ui/``: server-rendered pages over the query service's own search, facets, time
series and stories code, with sign-in by API key and the operations pages (which call the ingest API for
what only it can do, such as replaying a dead letter)."""
