"""docs/capacity.md's tables from measured per-message costs (no measurement here: arithmetic on the inputs).

Usage (the defaults are the figures of docs/capacity.md, each from the command it names there):
    .venv/bin/python scripts/capacity_model.py [--front-us 410] [--nats-us 335] [--worker-us 233] [--pg-us 80]
        [--reading-bytes 149] [--hourly-bytes 181] [--raw-days 400] [--hourly-days 1830] [--utilisation 0.5]
"""

import argparse

DEVICE_COUNTS = (10_000, 1_000_000, 10_000_000)
READINGS_PER_MESSAGE = 3
MESSAGES_PER_DEVICE_PER_S = 1 / 60


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--front-us", type=float, default=410.0, help="front end CPU per message")
    p.add_argument("--nats-us", type=float, default=335.0, help="nats-server CPU per message, in + out, all replicas")
    p.add_argument("--worker-us", type=float, default=233.0, help="stream worker CPU per message")
    p.add_argument("--pg-us", type=float, default=80.0, help="PostgreSQL backend CPU per message")
    p.add_argument("--reading-bytes", type=float, default=149.0)
    p.add_argument("--hourly-bytes", type=float, default=181.0)
    p.add_argument("--raw-days", type=int, default=400)
    p.add_argument("--hourly-days", type=int, default=1830)
    p.add_argument(
        "--utilisation",
        type=float,
        default=0.5,
        help="planned busy share of a core (headroom for a lost node and for catching up)",
    )
    a = p.parse_args()
    print(
        "| devices | msg/s | readings/s | front end cores | nats-server cores (3 nodes) | worker cores | "
        "PostgreSQL backend cores | raw readings/day | raw GB/day | raw TB at retention | hourly TB at retention |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for devices in DEVICE_COUNTS:
        rate = devices * MESSAGES_PER_DEVICE_PER_S
        cores = [rate * us / 1e6 / a.utilisation for us in (a.front_us, a.nats_us, a.worker_us, a.pg_us)]
        readings_day = rate * READINGS_PER_MESSAGE * 86_400
        raw_gb_day = readings_day * a.reading_bytes / 1e9
        hourly_rows = devices * READINGS_PER_MESSAGE * 24 * a.hourly_days
        print(
            f"| {devices:,} | {rate:,.0f} | {rate * READINGS_PER_MESSAGE:,.0f} | "
            + " | ".join(f"{c:,.1f}" for c in cores)
            + f" | {readings_day / 1e6:,.0f} M | {raw_gb_day:,.1f} | {raw_gb_day * a.raw_days / 1e3:,.1f} | "
            f"{hourly_rows * a.hourly_bytes / 1e12:,.2f} |"
        )


if __name__ == "__main__":
    main()
