"""The worker: Celery tasks that run the pipeline (normalise, dedup, tag, store) over batches of ids."""
