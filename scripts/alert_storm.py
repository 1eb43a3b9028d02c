#!/usr/bin/env python3
"""Writes the alert-storm fixture: one hour of raw alert evaluations from shop/prod,
where the database fails at 10:02 and drags the services and the ALB with it.

Every firing alert is re-evaluated every 30 s (that is what an evaluator emits), one
alert flaps, the cache briefly evicts, and a worker alert fires under a maintenance
silence. Deterministic: rerunning writes the same file.

    python3 scripts/alert_storm.py > shared/ferry-core/tests/fixtures/alert-storm.jsonl
"""
import json
from datetime import datetime, timedelta

START = datetime(2026, 11, 20, 10, 0, 0)
END = datetime(2026, 11, 20, 11, 0, 0)


def at(minute, second=0):
    return START + timedelta(minutes=minute, seconds=second)


# rule, component, severity, extra labels, firing from, resolved at, flapping span
ALERTS = [
    ("rds-cpu", "database", "critical", {}, at(2), at(45)),
    ("rds-connections", "database", "critical", {}, at(2, 40), at(45, 20)),
    ("latency-p99", "service:web", "warning", {"service": "web"}, at(3, 10), at(45, 40)),
    ("latency-p99", "service:api", "warning", {"service": "api"}, at(3, 30), at(45, 40)),
    ("5xx-rate", "service:web", "critical", {"service": "web"}, at(4), at(45, 50)),
    ("5xx-rate", "service:api", "critical", {"service": "api"}, at(4, 20), at(45, 50)),
    ("alb-5xx", "alb", "critical", {}, at(4, 30), at(46)),
    ("evictions", "cache", "warning", {}, at(20), at(25)),
    ("cpu", "service:worker", "warning", {"service": "worker"}, at(1), at(58)),
]
FLAPPING = ("latency-p99", "service:web", at(15), at(35))


def main():
    events = []
    for rule, component, severity, extra, fired, resolved in ALERTS:
        labels = {"app": "shop", "env": "prod", "component": component, "severity": severity, **extra}
        t = fired
        while t < END:
            status = "firing" if t < resolved else "resolved"
            if (rule, component) == FLAPPING[:2] and FLAPPING[2] <= t < FLAPPING[3]:
                # Flaps: firing one minute, resolved the next.
                status = "firing" if ((t - FLAPPING[2]).seconds // 60) % 2 == 0 else "resolved"
            if status == "resolved" and t > resolved + timedelta(minutes=2):
                break  # a resolved alert is reported a few times, then dropped
            events.append({
                "rule": rule, "labels": labels, "status": status,
                "at": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "summary": f"{component} {rule} {status}",
            })
            t += timedelta(seconds=30)
    events.sort(key=lambda e: (e["at"], e["rule"], e["labels"]["component"]))
    for e in events:
        print(json.dumps(e, sort_keys=True))


if __name__ == "__main__":
    main()
