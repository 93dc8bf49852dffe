"""Probing the models: stress cases, perturbations, negation edits, token explanations, LLM-written cases and live answerers."""
