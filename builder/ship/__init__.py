"""Moving images to sites: OCI registries (ORAS), UNICORE storages (PyUNICORE), rsync over ssh.

Every transport checks the sha256 of what arrived against the local file.
"""
