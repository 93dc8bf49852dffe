"""Bottom layer: errors, paths, units, safe text, the task-kind protocol, Arrow's memory. Imports nothing of evalcore above."""
