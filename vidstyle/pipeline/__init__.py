"""vidstyle.pipeline"""
