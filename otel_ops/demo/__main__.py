"""``python -m otel_ops.demo --host H --port P``: serve the demo service (as ``otel-ops demo-service``)."""

from __future__ import annotations

import argparse

from otel_ops.demo.service import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m otel_ops.demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8008)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    serve(args.host, args.port, args.seed)


if __name__ == "__main__":
    main()
