"""vidstyle.live"""
