"""Placeholder: this page is being built."""
import streamlit as st

st.title("examples")
st.info("Coming soon.")
