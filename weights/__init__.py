"""Trained style nets shipped with vidstyle (safetensors + JSON sidecar + preview)."""
