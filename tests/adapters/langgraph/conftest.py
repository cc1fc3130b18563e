"""The shared fakes live in ``tests/contract/harness.py`` (importable as ``contract.harness``)."""
