"""The decision: gates, the one verdict, findings sentences, label mix, slice discovery."""
