"""``python -m bulkpo.cli``: the ``bulkpo`` command."""

from bulkpo.cli import run

if __name__ == "__main__":
    run()
