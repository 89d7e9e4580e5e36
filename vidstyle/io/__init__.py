"""vidstyle.io"""
