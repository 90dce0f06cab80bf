"""Search over the processed articles: one definition of a query and its filters, used by the query service to
answer requests and by the worker to match saved searches against newly processed articles."""
