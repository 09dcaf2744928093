"""Keeping the index equal to the kb folder: storage on disk, full and incremental builds,
the watcher, replicas' git sync, meaning vectors, and the writer's status for readers.
"""
