"""Streamlit-side support for the pages: session state, cached engine calls, shared widgets.

The engine (`evalcore`) never imports this; pages import only this and `evalcore`.
"""
