"""``python -m augur_extender``: serve the extender with uvicorn (TLS when configured)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from augur.api.validation import SpecError
from augur.placement import ScoringConfig
from augur_extender.app import create_app
from augur_extender.deps import ExtenderState
from augur_extender.planner_child import PRIORITIES
from augur_extender.settings import Settings

PLANNER_SWITCH_INTERVAL = 0.001
"""Seconds between forced GIL hand-overs while the background planner runs (Python's default is 0.005)."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="augur-extender", description="Augur kube-scheduler extender.")
    p.add_argument("--host", default="127.0.0.1", help="listen address (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8888, help="listen port (default: 8888)")
    p.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", type=Path, help="private key of --tls-cert (PEM)")
    p.add_argument("--kubeconfig", type=Path, help="kubeconfig of the watch cache (default: in-cluster, then ~/.kube)")
    p.add_argument("--scoring", type=Path, help="YAML file with component weights and arguments")
    p.add_argument("--topology", help="name of the NetworkTopology to use (default: 'default', else the first by name)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--no-debug-endpoints", action="store_true", help="do not serve /debug/*")
    p.add_argument(
        "--no-planner", action="store_true", help="do not run the background planner (the plan component is neutral)"
    )
    p.add_argument(
        "--planner-process",
        action="store_true",
        help="run the planner's search in a child process at a lower CPU priority (default: on a thread)",
    )
    p.add_argument(
        "--planner-priority",
        choices=PRIORITIES,
        default="nice",
        help="CPU priority of the --planner-process child: nice (nice +10), idle (SCHED_IDLE, else nice) or normal"
        " (the extender's own)"
        " (default: nice)",
    )
    p.add_argument(
        "--no-verb-fast-path",
        action="store_true",
        help="answer /filter and /prioritize through FastAPI's routes instead of the ASGI fast path (same replies)",
    )
    p.add_argument(
        "--plan-interval",
        type=float,
        default=0.2,
        help="seconds the background planner pauses after each plan update (default: 0.2)",
    )
    p.add_argument(
        "--gate-lease",
        metavar="NAMESPACE/NAME",
        help="Lease electing the one replica whose gate keeper lets pods through the plan gate (with several"
        " replicas; identity $POD_NAME, and with $POD_NAMESPACE the leader labels its pod augur.dev/gate-keeper=true;"
        " default: this replica's gate keeper acts alone)",
    )
    return p


def settings_from_args(args: argparse.Namespace) -> Settings:
    scoring = ScoringConfig()
    if args.scoring is not None:
        scoring = ScoringConfig.from_dict(yaml.safe_load(args.scoring.read_text()) or {})
    return Settings(
        host=args.host,
        port=args.port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        log_level=args.log_level,
        scoring=scoring,
        kubeconfig=args.kubeconfig,
        topology=args.topology,
        debug_endpoints=not args.no_debug_endpoints,
        planner=not args.no_planner,
        planner_process=args.planner_process,
        planner_priority=args.planner_priority,
        verb_fast_path=not args.no_verb_fast_path,
        plan_interval_seconds=max(0.0, args.plan_interval),
        freeze_gc=True,
        gate_lease=args.gate_lease,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    return serve(parser.parse_args(argv), parser)


def serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the service from parsed flags (also used by ``augur extender run``)."""
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.exit(2, "augur-extender: error: --tls-cert and --tls-key go together\n")
    try:
        settings = settings_from_args(args)
    except (OSError, yaml.YAMLError, SpecError) as exc:
        parser.exit(2, f"augur-extender: error: --scoring: {exc}\n")
    except ValueError as exc:
        parser.exit(2, f"augur-extender: error: {exc}\n")
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.planner:
        # The planner thread (its search, or its hand-over to the planner process) holds the GIL in slices;
        # a request waits at most this long to get it back.
        sys.setswitchinterval(PLANNER_SWITCH_INTERVAL)
    import uvicorn

    from augur_extender.gatekeeper import KubeGateLifter
    from augur_extender.leadership import GateLeadership
    from augur_extender.watch import KubeWatchCache

    leadership = None if settings.gate_lease is None else GateLeadership.kube(settings.gate_lease, settings.kubeconfig)

    app = create_app(
        settings,
        ExtenderState.build(
            KubeWatchCache(
                settings.kubeconfig,
                settings.topology,
                pod_requests_from_status=settings.scoring.plan.pod_requests_from_status,
            ),
            settings,
            KubeGateLifter(settings.kubeconfig),
            leadership,
        ),
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls else None,
        log_level=settings.log_level,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        access_log=False,
        proxy_headers=False,  # kube-scheduler calls directly; no X-Forwarded-* to honour on the verbs' path
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
