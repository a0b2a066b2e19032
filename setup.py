"""Package list for setuptools: every package under app/, plus resources/ as `app.resources`.

Everything else about the build is in pyproject.toml; pyproject alone cannot add a mapped
folder to an automatic package search.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["app", "app.*"]), "app.resources"])
