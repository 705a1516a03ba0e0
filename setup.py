from setuptools import find_packages, setup

with open("README.md", encoding="utf-8") as readme:
    long_description = readme.read()

setup(
    name="recbole-ssctl",
    version="0.1.0",
    description="SSCTL and multi-domain baselines for RecBole 1.2.1, evaluated per domain",
    long_description=long_description,
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    packages=find_packages(include=["recbole_ssctl", "recbole_ssctl.*", "dataset_prep"])
    + ["recbole_ssctl.properties"],
    # The .yaml property files live in properties/ at the top of the repository and are
    # installed as recbole_ssctl/properties/, where quick_start.properties_dir() finds them.
    package_dir={"": ".", "recbole_ssctl.properties": "properties"},
    package_data={"recbole_ssctl.properties": ["*.yaml", "model/*.yaml", "dataset/*.yaml"]},
    include_package_data=False,
    install_requires=[
        # 1.2.1 exactly: recbole_ssctl.compat patches named methods of this release.
        "recbole==1.2.1",
        # torch >= 2.6 works through recbole_ssctl.compat; install the CPU build of torch
        # first (see README) so that pip does not fetch a CUDA build.
        "torch>=2.0",
        "numpy>=1.24",
        "scipy>=1.10",
        "pandas>=2.0",
        "pyyaml>=6.0",
        "tqdm>=4.60",
        "matplotlib>=3.7",
    ],
    extras_require={"test": ["pytest>=7.0"]},
    py_modules=["run_recbole_ssctl"],
)
