"""What an article is: its front matter, its Markdown body, its git history, its index document.

Reads files; knows nothing of how the index is kept or searched.
"""
