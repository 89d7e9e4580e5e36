"""A short real clip for demos (see README.md in this folder)."""
