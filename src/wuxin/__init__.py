"""Wuxin (物信): the credit of things — an open IoT finance platform."""

__version__ = "0.1.0"
