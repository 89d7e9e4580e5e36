"""vidstyle.training"""
