"""Placeholder: this page is being built."""
import streamlit as st

st.title("slices")
st.info("Coming soon.")
