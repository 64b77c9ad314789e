"""Map the top-level ``jobs/`` and ``graphs/`` folders to ``qingfeng.jobs`` and ``qingfeng.graphs``."""

from setuptools import find_packages, setup

MAPPED = {"qingfeng.jobs": "jobs", "qingfeng.graphs": "graphs"}

packages = find_packages(include=["qingfeng", "qingfeng.*"])
package_dir = {"qingfeng": "qingfeng"}
for name, folder in MAPPED.items():
    package_dir[name] = folder
    packages += [name] + [f"{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=package_dir)
