"""Text in and out of the index: analyzers, query parsing, synonyms, snippets, meaning vectors.

Pure functions of text (and of the synonym file); nothing here opens an index.
"""
