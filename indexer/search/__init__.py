"""Reading the index: snapshots, ranking, query rewriting, suggestions, tickets, explanations.

:class:`indexer.search.knowledge_base.KnowledgeBase` is the one entry point; every answer is
limited to the audiences the caller may see.
"""
