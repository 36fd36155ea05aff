#!/usr/bin/env python3
"""Builds the bundled recorded deployments in examples/ from the real ECS event samples.

Every event below is a real sample from tests/fixtures/events with only identity fields changed
(ids, ARNs, times, startedBy, lastStatus/version where a lifecycle needs it), so the shapes are AWS's.
Run: python3 examples/generate.py  (writes examples/*.jsonl; deterministic).
"""
import copy, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tests", "fixtures", "events")
ACCOUNT, REGION, CLUSTER, SERVICE = "123456789012", "eu-west-2", "shop", "api"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE}"
OLD, NEW, ROLLBACK = "ecs-svc/4231880795355584839", "ecs-svc/2757582648257641111", "ecs-svc/8646900195280463695"


def load(name):
    with open(os.path.join(FIX, name)) as f:
        return json.load(f)


def ts(sec, ms=0):
    m, s = divmod(sec, 60)
    return f"2025-02-13T14:{m:02d}:{s:02d}.{ms:03d}Z"


def envelope(v, n, sec):
    v = copy.deepcopy(v)
    v["id"] = f"00000000-0000-0000-0000-{n:012d}"
    v["account"], v["region"], v["time"] = ACCOUNT, REGION, ts(sec)
    return v


def service_arn(svc):
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{svc}"


def deployment(n, sec, name, dep_id, reason, svc=SERVICE):
    base = {"SERVICE_DEPLOYMENT_COMPLETED": "deployment__completed-real-id-2022.json",
            "SERVICE_DEPLOYMENT_FAILED": "deployment__failed-circuit-breaker-docs.json"}.get(
        name, "deployment__in-progress-with-clusterarn-autoptic-trimmed.json")
    v = envelope(load(base), n, sec)
    v["resources"] = [service_arn(svc)]
    d = v["detail"]
    d.update({"eventName": name, "deploymentId": dep_id, "updatedAt": ts(sec, 250), "reason": reason,
              "clusterArn": CLUSTER_ARN, "eventType": "ERROR" if name.endswith("FAILED") else "INFO"})
    return v


def task(n, sec, base, task_id, started_by, status, version, td_rev, svc=SERVICE, **extra):
    v = envelope(load(base), n, sec)
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{task_id}"
    v["resources"] = [arn]
    d = v["detail"]
    d.update({"taskArn": arn, "clusterArn": CLUSTER_ARN, "group": f"service:{svc}", "startedBy": started_by,
              "lastStatus": status, "version": version, "updatedAt": ts(sec, 500),
              "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{svc}:{td_rev}"})
    for c in d.get("containers", []):
        c["taskArn"] = arn
    if status != "STOPPED":
        for k in ("stopCode", "stoppedReason", "stoppedAt", "stoppingAt", "executionStoppedAt"):
            d.pop(k, None)
        d["desiredStatus"] = "RUNNING"
        for c in d.get("containers", []):
            c.pop("exitCode", None)
            c.pop("reason", None)
            c["lastStatus"] = "RUNNING" if status == "RUNNING" else "PENDING"
    else:
        d["stoppedAt"] = ts(sec, 400)
    d.update(extra)
    return v


def write(name, events):
    with open(os.path.join(HERE, name), "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")


OOM = "task__stopped-essential-oom-reason-exit1-defra.json"
RUN = "task__running-fargate-multicontainer-defra.json"
SCALE = "task__stopped-scaling-activity-scheduler-exit137-arkime-2023.json"

# 1. Circuit breaker: three tasks of the new revision die of OOM, FAILED, rollback, rollback completes.
ev, n = [], 0
def add(e):
    global n
    n += 1
    ev.append(e)
add(deployment(n, 0, "SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, f"ECS deployment {NEW} in progress."))
for i, tid in enumerate(["a1b2c3d4e5f60718293a4b5c6d7e8f90", "b1b2c3d4e5f60718293a4b5c6d7e8f91", "c1b2c3d4e5f60718293a4b5c6d7e8f92"]):
    t0 = 10 + i * 60
    add(task(n, t0, RUN, tid, NEW, "PROVISIONING", 1, 42))
    add(task(n, t0 + 15, RUN, tid, NEW, "RUNNING", 2, 42))
    add(task(n, t0 + 15, RUN, tid, NEW, "RUNNING", 2, 42))  # EventBridge duplicate
    add(task(n, t0 + 45, OOM, tid, NEW, "STOPPED", 3, 42))
add(deployment(n, 200, "SERVICE_DEPLOYMENT_FAILED", NEW, "ECS deployment circuit breaker: tasks failed to start."))
add(deployment(n, 201, "SERVICE_DEPLOYMENT_IN_PROGRESS", ROLLBACK,
               f"ECS deployment circuit breaker: rolling back to deploymentId {OLD}."))
add(deployment(n, 290, "SERVICE_DEPLOYMENT_COMPLETED", ROLLBACK, f"ECS deployment {ROLLBACK} completed."))
write("breaker-rollback.jsonl", ev)

# 2. Success: two tasks start, old tasks are scaled in (benign, exit 137), COMPLETED.
ev, n = [], 0
add(deployment(n, 0, "SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, f"ECS deployment {NEW} in progress."))
for i, tid in enumerate(["d1b2c3d4e5f60718293a4b5c6d7e8f93", "e1b2c3d4e5f60718293a4b5c6d7e8f94"]):
    add(task(n, 5 + i, RUN, tid, NEW, "PROVISIONING", 1, 42))
    add(task(n, 30 + i, RUN, tid, NEW, "RUNNING", 2, 42))
for i, tid in enumerate(["f1b2c3d4e5f60718293a4b5c6d7e8f95", "01b2c3d4e5f60718293a4b5c6d7e8f96"]):
    add(task(n, 60 + i, SCALE, tid, OLD, "STOPPED", 6, 41,
             stoppedReason=f"Scaling activity initiated by (deployment {NEW})"))
add(deployment(n, 120, "SERVICE_DEPLOYMENT_COMPLETED", NEW, f"ECS deployment {NEW} completed."))
write("success.jsonl", ev)

# 3. Crash loop on a service without a circuit breaker: no FAILED event ever comes.
ev, n = [], 0
add(deployment(n, 0, "SERVICE_DEPLOYMENT_IN_PROGRESS", NEW, f"ECS deployment {NEW} in progress."))
SIDECAR = "task__stopped-essential-sidecar-exit1-main-143-defra.json"
for i in range(3):
    tid = f"{i}2b2c3d4e5f60718293a4b5c6d7e8f9{i}"
    add(task(n, 10 + i * 40, RUN, tid, NEW, "RUNNING", 2, 42))
    add(task(n, 30 + i * 40, SIDECAR, tid, NEW, "STOPPED", 7, 42))
write("crash-loop-no-breaker.jsonl", ev)

# 4. One gate over three services (a recording by `ecsgate wait --service api,worker,cron`): api and cron
# complete, worker's new revision dies of OOM three times and the circuit breaker fails it.
WORKER, CRON = "ecs-svc/5550000000000000001", "ecs-svc/7770000000000000002"
ev, n = [], 0
targets = [{"cluster": CLUSTER, "service": s, "deployment_id": d} for s, d in (("api", NEW), ("worker", WORKER), ("cron", CRON))]
ev.append({"type": "start", "version": 2, **targets[0], "services": targets, "ecsgate": "0.1.0",
           "at": "2025-02-13T14:00:00.000Z"})
for svc, dep in (("api", NEW), ("worker", WORKER), ("cron", CRON)):
    add(deployment(n, 0, "SERVICE_DEPLOYMENT_IN_PROGRESS", dep, f"ECS deployment {dep} in progress.", svc))
add(task(n, 5, RUN, "a0b2c3d4e5f60718293a4b5c6d7e8f01", NEW, "RUNNING", 2, 42, "api"))
add(task(n, 6, RUN, "c0b2c3d4e5f60718293a4b5c6d7e8f03", CRON, "RUNNING", 2, 7, "cron"))
for i in range(3):
    tid = f"b{i}b2c3d4e5f60718293a4b5c6d7e8f0{i}"
    add(task(n, 10 + i * 30, RUN, tid, WORKER, "RUNNING", 2, 13, "worker"))
    add(task(n, 25 + i * 30, OOM, tid, WORKER, "STOPPED", 3, 13, "worker"))
add(deployment(n, 60, "SERVICE_DEPLOYMENT_COMPLETED", NEW, f"ECS deployment {NEW} completed."))
add(deployment(n, 95, "SERVICE_DEPLOYMENT_COMPLETED", CRON, f"ECS deployment {CRON} completed.", "cron"))
add(deployment(n, 100, "SERVICE_DEPLOYMENT_FAILED", WORKER, "ECS deployment circuit breaker: tasks failed to start.", "worker"))
write("three-services.jsonl", ev)
