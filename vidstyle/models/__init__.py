"""vidstyle.models"""
