"""vidstyle.flow"""
