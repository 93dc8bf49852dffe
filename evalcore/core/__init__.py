"""Bottom layer: errors, paths, units, safe text, the task-kind protocol. Imports nothing of evalcore above."""
