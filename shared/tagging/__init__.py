"""Taggers: language, entities, places, topics, keywords, tone and user rules."""
