"""Placeholder: this page is being built."""
import streamlit as st

st.title("share")
st.info("Coming soon.")
