"""Task kinds as objects (one module per kind, one protocol) and the pipeline that asks them."""
