"""The watcher daemon, the job functions RQ runs, and the worker entry."""
