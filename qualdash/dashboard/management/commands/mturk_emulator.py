"""Serve the offline MTurk emulator, for the demo and for benchmarks."""

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from qualdash.mturk.emulator import start_emulator


class Command(BaseCommand):
    help = "Serve an offline MTurk requester API (seeded data) until Ctrl-C or SIGTERM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument(
            "--latency-ms", type=float, default=0.0, help="Delay added to every call."
        )
        parser.add_argument(
            "--throttle-every",
            type=int,
            default=0,
            help="Answer every Nth call with ThrottlingException (0: never).",
        )
        parser.add_argument(
            "--fault-from-call",
            type=int,
            default=0,
            help="First call (1-based) answered with a 500 ServiceFault (0: none).",
        )
        parser.add_argument(
            "--fault-calls", type=int, default=0, help="How many calls in a row fault."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        server = start_emulator(
            options["host"],
            options["port"],
            latency=options["latency_ms"] / 1000,
            throttle_every=options["throttle_every"],
            fault_from_call=options["fault_from_call"],
            fault_calls=options["fault_calls"],
        )
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        # Both signals end the same way, so a supervisor's SIGTERM is as clean as Ctrl-C.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(
            f"MTurk emulator listening on {server.url} (latency {options['latency_ms']:g} ms)"
        )
        self.stdout.flush()
        stopping.wait()
        server.stop()
