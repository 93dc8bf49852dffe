"""Serving concerns beside the analysis: saved workspaces, uploads and allowed folders, doctor."""
