"""vidstyle.consistency"""
