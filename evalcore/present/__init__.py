"""Showing it: charts, the Markdown / HTML report, the generation report blocks, the W&B push."""
