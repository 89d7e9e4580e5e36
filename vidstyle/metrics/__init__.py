"""vidstyle.metrics"""
