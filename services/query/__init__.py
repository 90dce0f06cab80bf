"""Query service: search and read the processed articles in PostgreSQL."""
