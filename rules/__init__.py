"""The Jiaxing carbon-inclusive (碳普惠) rules as pure data and functions.

Standard library only: no I/O, no clock reads, nothing from ``registry`` or ``api``. Every check returns every
violation it finds, each naming the article (第N条) of 嘉碳普惠办〔2023〕3号 it enforces.
"""
