#!/usr/bin/env python3
"""moto 5.2.5 plus a thin layer that plays ECS's part where moto does not (../shared/docs/EMULATOR.md).

What the layer adds, in-process, around moto's own WSGI app:
- UpdateService with a new task definition (or forceNewDeployment) creates a new PRIMARY deployment with a
  fresh `ecs-svc/<19 digits>` id, IN_PROGRESS, and turns the previous PRIMARY into ACTIVE (moto only
  rewrites the service in place).
- POST /_ecsgate/deployment: set a deployment's status, rolloutState, reason and counts, or remove it;
  `service_events` adds messages to the service's event log (DescribeServices `events[]`).
- POST /_ecsgate/task: create a task of a service's deployment with the lastStatus, stopCode, stoppedReason
  and containers (exit codes, reasons) that a test's emitted events describe, so ListTasks(startedBy,
  desiredStatus) and DescribeTasks agree with the events.
- POST /_ecsgate/fault: make requests signed with one access key fail (a code and HTTP status, for a
  number of requests or seconds): 500s, throttling, AccessDenied; or hang (`hang`: seconds before the
  answer, the fault's error if it has a `code`), as a stalled endpoint does. Tests use their own key so faults never
  leak into other tests running against the same server.
- DescribeServiceDeployments answers what a test set with /_ecsgate/service_deployment (ARNs it does not
  know are failures `MISSING`, as for deployments older than the API);
- StopServiceDeployment (moto has no ServiceDeployment API) for ARNs a test gave a service with
  `service_deployment_arn`: a rollback to the previous revision, as ECS would start one.
- POST /_ecsgate/target_group: a target group with a health check (path, port, matcher) in the default VPC.
- POST /_ecsgate/target_health: what DescribeTargetHealth answers for a target group (reason codes and
  descriptions moto does not produce); DescribeTargetGroups stays moto's.
- GET /_ecsgate/calls?key=AKID: API calls seen per service and action for that key (for the benchmark);
  GET /_ecsgate/log?key=AKID: the same calls in the order they came.
- POST /_ecsgate/service_config: a service's deploymentConfiguration (strategy, bakeTimeInMinutes,
  linear/canary configuration, lifecycleHooks, alarms), as DescribeServices then answers it.
- POST /_ecsgate/service_deployment: drive a service deployment through its lifecycle: merge fields
  (status, lifecycleStage, lifecycleHookDetails, statusReason, alarms, …) into what
  DescribeServiceDeployments and ListServiceDeployments answer, and emit `ECS Hook State Change` events
  onto the default bus (`emit_hook`), as ECS would. Timestamps go out as epoch seconds, as the API sends.
- ContinueServiceDeployment: for a hook AWAITING_ACTION of an IN_PROGRESS deployment, CONTINUE marks it
  SUCCEEDED, ROLLBACK marks it FAILED and the deployment ROLLBACK_REQUESTED; either emits the hook event.
- POST /_ecsgate/alarm: what CloudWatch DescribeAlarms answers for an alarm (state and reason). The
  CloudWatch API speaks rpc-v2-cbor, which moto 5.2.5 does not: the layer answers it (cbor2).
- POST /_ecsgate/run_outcome: what the next RunTask in a cluster does, as ECS would play it (one entry per
  call, in order): `failures` answers RunTask with them and places nothing; otherwise moto places the
  tasks and the layer plays each through `path` (default PENDING, RUNNING, STOPPED; PENDING, STOPPED for
  a task that never ran), `delay` seconds apart: DescribeTasks then answers each state, and an `ECS Task
  State Change` event in the documented shape goes onto the default bus. STOPPED carries `stopCode`,
  `stoppedReason` and the `containers` given (name, exitCode, reason; a container not named exits 0),
  and `logs` lines are written first to the stream awslogs would use.
- POST /_ecsgate/express: make a service an ECS Express Mode service (`resourceManagementType: ECS` in
  DescribeServices) and set what ECS manages for a service revision (`revision_arn`, `endpoint`,
  `alarms`, `log_group`): DescribeServiceRevisions answers `ecsManagedResources` with them.
  DescribeExpressGatewayService answers the service with its active configuration; UpdateExpressGatewayService
  records the request, starts a new deployment (as UpdateService does here) and a service deployment
  targeting a new revision whose managed resources are the service's, and answers that revision as
  `targetConfiguration.serviceRevisionArn`, as ECS would.
- CodeDeploy (JSON 1.1, `CodeDeploy_20141006.*`), played whole by the layer for ECS deployments (moto's lacks
  deployment targets, Continue and Stop): GetDeployment, BatchGetDeployments, ListDeployments,
  GetDeploymentGroup (its last attempted deployment), GetDeploymentTarget, ContinueDeployment (only from
  Ready; then what `on_continue` says happens), StopDeployment, CreateDeployment (in a group a test declared
  with `group`: InProgress with the group's `deployment` fields and `target`, the request's revision kept,
  START emitted). POST /_ecsgate/codedeploy merges a
  deployment's `deploymentInfo` fields and its ECS target, and emits a `CodeDeploy Deployment State-change
  Notification` with `emit` (START, SUCCESS, FAILURE, STOP, READY) onto the default bus, as CodeDeploy would.
- The hub (hub/template.yaml): when the SSM parameter /ecsgate/hub/table names a DynamoDB table of the
  region, every ECS event put on the default bus that the template's rule matches is written into it by
  the template's own ingestion code (its Lambda's ZipFile, run here), as the rule and function would: the
  reader under test and the writer it ships cannot drift. POST /_ecsgate/hub_put writes events given
  whole (as EventBridge delivered them: id, time and account kept) through the same code, into the
  hub's table or the one it names.
- POST /_ecsgate/forget_tasks: ECS forgets a cluster's tasks, as it forgets stopped tasks after an hour.
Tasks never advance on DescribeTasks (moto's state manager is set to manual for ecs::task).
Usage: server.py --port PORT   (binds 127.0.0.1 only)
"""
import argparse
import cbor2
import io
import json
import random
import re
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from urllib.parse import parse_qs

from moto.backends import get_backend
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.ecs import models as ecs_models
from moto.events import models as events_models
from werkzeug.serving import run_simple

LOCK = threading.Lock()
TARGET_HEALTH = {}
SERVICE_DEPLOYMENTS = {}  # service-deployment ARN -> (region, cluster, service)
SD_STATE = {}  # service-deployment ARN -> what DescribeServiceDeployments answers for it
STOPPED = []  # (ARN, stopType) of StopServiceDeployment calls  # target group ARN -> [{"id", "port", "state", "reason", "description"}]
ALARMS = {}  # alarm name -> {"state", "reason"}
EXPRESS = {}  # service ARN -> {"region", "cluster", "service", "managed", "container", "updates": [...]}
REVISIONS = {}  # service-revision ARN -> ecsManagedResources
CD_DEPLOYMENTS = {}  # deployment id -> deploymentInfo
CD_TARGETS = {}  # deployment id -> ecsTarget
CD_ON_CONTINUE = {}  # deployment id -> what ContinueDeployment makes happen
CD_GROUPS = {}  # (application, group) -> {"deployment": fields of every deployment created in it, "target": its first target}
RUN_OUTCOMES = defaultdict(list)  # cluster name -> what its next RunTask calls do, in order
FAULTS = []  # dicts: key, service, action, code, status, until, remaining
CALLS = defaultdict(Counter)
LOG = defaultdict(list)  # key -> ["service.Action", ...] in the order received


def now():
    return datetime.now(timezone.utc)


def new_deployment_id():
    return "ecs-svc/" + "".join(random.choice("0123456789") for _ in range(19))


def ecs(region):
    return get_backend("ecs")[DEFAULT_ACCOUNT_ID][region]


# ---------------------------------------------------------------- UpdateService creates a deployment
_orig_update_service = ecs_models.EC2ContainerServiceBackend.update_service


def update_service(self, props):
    new_td = props.get("task_definition")
    force = props.pop("force_new_deployment", False)
    service = _orig_update_service(self, props)
    if (new_td or force) and service.deployment_controller.get("type", "ECS") == "ECS":
        td = self.describe_task_definition(service.task_definition)
        service.task_definition = td.arn
        for d in service.deployments:
            if d["status"] == "PRIMARY":
                d["status"] = "ACTIVE"
        dep_id = new_deployment_id()
        service.deployments.insert(0, {
            "id": dep_id, "status": "PRIMARY", "taskDefinition": td.arn,
            "desiredCount": service.desired_count, "pendingCount": 0, "runningCount": 0, "failedTasks": 0,
            "createdAt": now(), "updatedAt": now(), "launchType": service.launch_type,
            "rolloutState": "IN_PROGRESS", "rolloutStateReason": f"ECS deployment {dep_id} in progress.",
        })
    return service


ecs_models.EC2ContainerServiceBackend.update_service = update_service


# ---------------------------------------------------------------- the hub's ingestion
HUB_PATTERN = {"ECS Deployment State Change", "ECS Service Action", "ECS Task State Change", "ECS Hook State Change"}
_hub_code = {}


def hub_code():
    """The template's ingestion function (`items`), read from hub/template.yaml once."""
    if not _hub_code:
        import os
        import textwrap
        here = os.path.dirname(os.path.abspath(__file__))
        text = open(os.path.join(here, "..", "..", "hub", "template.yaml")).read()
        m = re.search(r"^( *)ZipFile: \|\n((?:\1  .*\n|\s*\n)+)", text, re.M)
        exec(textwrap.dedent(m.group(2)), _hub_code)
    return _hub_code


def hub_table(region):
    """The table the hub's SSM parameter names in `region`, or None (no hub)."""
    try:
        param = get_backend("ssm")[DEFAULT_ACCOUNT_ID][region].get_parameter("/ecsgate/hub/table")
    except Exception:
        return None
    return param.value if param is not None else None


def hub_write(region, table, event):
    """One delivered event into the hub's table, mapped by the template's own `items`."""
    ddb = get_backend("dynamodb")[DEFAULT_ACCOUNT_ID][region]
    for item in hub_code()["items"](event):
        ddb.put_item(table, {"key": {"S": item["key"]}, "at": {"S": item["at"]}, "event": {"S": item["event"]},
                             "expires": {"N": str(item["expires"])}})


def hub_ingest(region, entries):
    table = hub_table(region)
    if table is None:
        return
    for e in entries:
        if e.get("Source") != "aws.ecs" or e.get("DetailType") not in HUB_PATTERN:
            continue
        event = {"version": "0", "id": str(__import__("uuid").uuid4()), "detail-type": e["DetailType"], "source": "aws.ecs",
                 "account": DEFAULT_ACCOUNT_ID, "time": now().strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
                 "resources": e.get("Resources") or [], "detail": json.loads(e.get("Detail") or "{}")}
        hub_write(region, table, event)


def ctl_hub_put(body):
    region = body.get("region", "us-east-1")
    table = body.get("table") or hub_table(region)
    if table is None:
        raise KeyError(f"no hub in {region}")
    for event in body["events"]:
        hub_write(region, table, event)
    return {"written": len(body["events"])}


def ctl_forget_tasks(body):
    b = ecs(body.get("region", "us-east-1"))
    cluster = body["cluster"].split("/")[-1]
    forgotten = len(b.tasks.get(cluster, {}))
    b.tasks[cluster] = {}
    return {"forgotten": forgotten}


_orig_put_events = events_models.EventsBackend.put_events


def put_events(self, events):
    out = _orig_put_events(self, events)
    try:
        hub_ingest(self.region_name, events)
    except Exception as err:  # a broken ingestion must show in the log, not break PutEvents
        print(f"hub ingestion failed: {type(err).__name__}: {err}", flush=True)
    return out


events_models.EventsBackend.put_events = put_events


# ---------------------------------------------------------------- control endpoints
def find_service(region, cluster, name):
    b = ecs(region)
    cluster = cluster.split("/")[-1]
    svc = b.services.get(f"{cluster}:{name.split('/')[-1]}")
    if svc is None:
        raise KeyError(f"no service {cluster}/{name}")
    return b, svc


def ctl_deployment(body):
    _, svc = find_service(body.get("region", "us-east-1"), body["cluster"], body["service"])
    dep = next((d for d in svc.deployments if d["id"] == body["deployment_id"]), None)
    if dep is None:
        raise KeyError("no deployment " + body["deployment_id"])
    if "service_deployment_arn" in body:
        # The ServiceDeployment API's ARN for the deployment (what StopServiceDeployment takes).
        svc.current_service_deployment = svc.currentServiceDeployment = body["service_deployment_arn"]
        SERVICE_DEPLOYMENTS[body["service_deployment_arn"]] = (body.get("region", "us-east-1"), body["cluster"], body["service"])
    if "service_events" in body:
        # The service's event log, newest first as DescribeServices gives it.
        svc.events = [{"id": f"ev-{random.randrange(10**9)}", "createdAt": now(), "message": m}
                      for m in reversed(body["service_events"])] + list(svc.events)
    if "service_running" in body:
        svc.running_count = body["service_running"]
        svc.pending_count = 0
    if body.get("remove"):
        svc.deployments.remove(dep)
        return {"removed": dep["id"]}
    fields = {"status": "status", "rollout_state": "rolloutState", "reason": "rolloutStateReason",
              "running": "runningCount", "pending": "pendingCount", "failed": "failedTasks", "desired": "desiredCount"}
    for k, f in fields.items():
        if k in body:
            dep[f] = body[k]
    dep["updatedAt"] = now()
    if body.get("new_primary"):
        # A rollback or another deployment becoming PRIMARY (the given one stays as set above).
        for d in svc.deployments:
            if d["status"] == "PRIMARY" and d is not dep:
                d["status"] = "ACTIVE"
        new = dict(dep)
        new.update({"id": body["new_primary"].get("id") or new_deployment_id(), "status": "PRIMARY",
                    "rolloutState": "IN_PROGRESS", "createdAt": now(), "updatedAt": now(),
                    "rolloutStateReason": body["new_primary"].get("reason", "in progress"),
                    "runningCount": 0, "pendingCount": 0, "failedTasks": 0})
        svc.deployments.insert(0, new)
        return {"id": new["id"]}
    return {"id": dep["id"]}


def ctl_service_config(body):
    _, svc = find_service(body.get("region", "us-east-1"), body["cluster"], body["service"])
    svc.deployment_configuration = svc.deploymentConfiguration = body["deployment_configuration"]
    return {"ok": True}


def epoch(d=None):
    return (d or now()).timestamp()


def ctl_service_deployment(body):
    """Merge fields into a service deployment, and emit a hook event if asked (ECS's part)."""
    arn = body["service_deployment_arn"]
    region = body.get("region", "us-east-1")
    _, svc = find_service(region, body["cluster"], body["service"])
    with LOCK:
        sd = SD_STATE.setdefault(arn, {"serviceDeploymentArn": arn, "serviceArn": svc.arn, "clusterArn": svc.cluster_arn,
                                       "createdAt": epoch(), "startedAt": epoch(), "status": "PENDING"})
        SERVICE_DEPLOYMENTS.setdefault(arn, (region, body["cluster"], body["service"]))
        sd.update(body.get("fields", {}))
        sd["updatedAt"] = epoch()
    if body.get("current", True):
        svc.current_service_deployment = svc.currentServiceDeployment = arn
    if "emit_hook" in body:
        emit_hook(region, svc, arn, body["emit_hook"])
    return {"serviceDeploymentArn": arn}


def emit_hook(region, svc, sd_arn, h):
    """An `ECS Hook State Change` event in the documented shape, onto the default bus."""
    detail = {"eventType": "INFO", "eventName": h["eventName"], "hookId": h["hookId"], "hookType": h.get("hookType", "PAUSE"),
              "lifecycleStage": h.get("lifecycleStage"), "clusterArn": svc.cluster_arn, "serviceArn": svc.arn,
              "serviceDeploymentArn": sd_arn, "updatedAt": now().strftime("%Y-%m-%dT%H:%M:%S.%f000Z")}
    if h.get("expiresAt"):
        detail["expiresAt"] = h["expiresAt"]
    get_backend("events")[DEFAULT_ACCOUNT_ID][region].put_events([{
        "Source": "aws.ecs", "DetailType": "ECS Hook State Change", "Detail": json.dumps(detail),
        "Resources": [sd_arn], "EventBusName": "default"}])


def ctl_alarm(body):
    with LOCK:
        ALARMS[body["name"]] = {"state": body.get("state", "ALARM"), "reason": body.get("reason", "")}
    return {"ok": True}


def json_answer(start_response, out, status="200 OK"):
    data = json.dumps(out).encode()
    start_response(status, [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))])
    return [data]


def json_error(start_response, code, message):
    data = json.dumps({"__type": code, "message": message}).encode()
    start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code),
                                       ("Content-Length", str(len(data)))])
    return [data]


def continue_service_deployment(req, start_response):
    arn, hook_id, action = req.get("serviceDeploymentArn", ""), req.get("hookId", ""), req.get("action", "CONTINUE")
    with LOCK:
        sd = SD_STATE.get(arn)
        hook = next((h for h in (sd or {}).get("lifecycleHookDetails", []) if h.get("hookId") == hook_id), None)
        if sd is None:
            return json_error(start_response, "ServiceDeploymentNotFoundException", f"service deployment {arn} not found")
        if sd["status"] != "IN_PROGRESS" or hook is None or hook.get("status") != "AWAITING_ACTION":
            return json_error(start_response, "InvalidParameterException",
                              f"hook {hook_id} is not awaiting action in an IN_PROGRESS service deployment")
        hook["status"] = "SUCCEEDED" if action == "CONTINUE" else "FAILED"
        if action == "ROLLBACK":
            sd["status"] = "ROLLBACK_REQUESTED"
        sd["updatedAt"] = epoch()
        stage = sd.get("lifecycleStage")
    region, cluster, name = SERVICE_DEPLOYMENTS[arn]
    _, svc = find_service(region, cluster, name)
    emit_hook(region, svc, arn, {"eventName": "HOOK_SUCCEEDED" if action == "CONTINUE" else "HOOK_FAILED",
                                 "hookId": hook_id, "hookType": hook.get("targetType", "PAUSE"), "lifecycleStage": stage})
    return json_answer(start_response, {"serviceDeploymentArn": arn})


def list_service_deployments(req, start_response):
    service, statuses = req.get("service", ""), req.get("status") or None
    with LOCK:
        rows = [sd for sd in SD_STATE.values()
                if (sd.get("serviceArn") == service or sd.get("serviceArn", "").endswith("/" + service))
                and (statuses is None or sd.get("status") in statuses)]
        brief = [{k: sd[k] for k in ("serviceDeploymentArn", "serviceArn", "clusterArn", "startedAt", "createdAt",
                                     "finishedAt", "status", "statusReason") if k in sd}
                 | ({"targetServiceRevisionArn": sd["targetServiceRevision"]["arn"]} if "targetServiceRevision" in sd else {})
                 for sd in sorted(rows, key=lambda x: x.get("createdAt", 0), reverse=True)]
    return json_answer(start_response, {"serviceDeployments": brief})


def describe_alarms_cbor(raw, start_response):
    """CloudWatch DescribeAlarms over rpc-v2-cbor: the alarms a test set with /_ecsgate/alarm."""
    req = cbor2.loads(raw) if raw else {}
    names = req.get("AlarmNames") or []
    with LOCK:
        found = [{"AlarmName": n, "AlarmArn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{n}",
                  "StateValue": ALARMS[n]["state"], "StateReason": ALARMS[n]["reason"],
                  "StateUpdatedTimestamp": cbor2.CBORTag(1, time.time())}
                 for n in names if n in ALARMS]
    data = cbor2.dumps({"MetricAlarms": found, "CompositeAlarms": []})
    start_response("200 OK", [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                              ("Content-Length", str(len(data)))])
    return [data]


class C:
    """A container as moto's serializer reads it (attributes in both spellings)."""

    def __init__(self, task_arn, spec):
        self.name = spec["name"]
        self.container_arn = f"{task_arn}/{spec['name']}"
        self.task_arn = task_arn
        self.last_status = spec.get("lastStatus", "STOPPED")
        code = spec.get("exitCode")
        self.exit_code = code
        self.exitCode = code
        self.reason = spec.get("reason")
        self.image = spec.get("image", "example/app:latest")
        self.network_interfaces = []
        self.health_status = "UNKNOWN"
        self.cpu = "0"


def ctl_task(body):
    region = body.get("region", "us-east-1")
    b, svc = find_service(region, body["cluster"], body["service"])
    cluster = b._get_cluster(body["cluster"])
    td = b.describe_task_definition(body.get("task_definition") or svc.task_definition)
    # Constructed directly: moto's RunTask wants container instances, which a Fargate service has none of.
    t = ecs_models.Task(cluster, td, None, None, b, group=f"service:{svc.name}", started_by=body["started_by"],
                        launch_type="FARGATE")
    b.tasks.setdefault(cluster.name, {})[t.task_arn] = t
    t.status = body.get("lastStatus", "STOPPED")
    t.desired_status = body.get("desiredStatus", "STOPPED" if t.status == "STOPPED" else "RUNNING")
    t.stop_code = body.get("stopCode")
    t.stopped_reason = body.get("stoppedReason", "")
    t.version = body.get("version", 3)
    if t.status == "STOPPED":
        t.stopped_at = now()
        t.stopping_at = now()
    t.containers = [C(t.task_arn, c) for c in body.get("containers", [])]
    return {"taskArn": t.task_arn}


def managed_json(m):
    """`ecsManagedResources` in the model's shape, every required member present."""
    t = epoch()
    out = {"ingressPaths": [], "metricAlarms": [], "logGroups": [], "serviceSecurityGroups": []}
    if m.get("endpoint"):
        out["ingressPaths"].append({"accessType": "PUBLIC", "endpoint": m["endpoint"],
                                    "loadBalancer": {"arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/ecs-express/1",
                                                     "status": m.get("lb_status", "ACTIVE"), "updatedAt": t, "scheme": "internet-facing"}})
    for name in m.get("alarms", []):
        out["metricAlarms"].append({"arn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}", "status": "ACTIVE", "updatedAt": t})
    if m.get("log_group"):
        out["logGroups"].append({"arn": f"arn:aws:logs:us-east-1:123456789012:log-group:{m['log_group']}", "status": "ACTIVE",
                                 "updatedAt": t, "logGroupName": m["log_group"]})
    return out


def ctl_express(body):
    region = body.get("region", "us-east-1")
    _, svc = find_service(region, body["cluster"], body["service"])
    svc.resource_management_type = svc.resourceManagementType = "ECS"
    managed = {k: body[k] for k in ("endpoint", "alarms", "log_group", "lb_status") if k in body}
    with LOCK:
        EXPRESS[svc.arn] = {"region": region, "cluster": body["cluster"], "service": body["service"], "managed": managed,
                            "container": body.get("container", {"image": "app:1", "containerPort": 8080}), "updates": []}
        if body.get("revision_arn"):
            REVISIONS[body["revision_arn"]] = managed_json(managed)
    return {"serviceArn": svc.arn}


def describe_service_revisions(req, start_response):
    found, failures = [], []
    for arn in req.get("serviceRevisionArns", []):
        with LOCK:
            m = REVISIONS.get(arn)
        if m is None:
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append({"serviceRevisionArn": arn, "ecsManagedResources": m, "createdAt": epoch()})
    return json_answer(start_response, {"serviceRevisions": found, "failures": failures})


def express_service(arn):
    with LOCK:
        e = EXPRESS.get(arn)
    if e is None:
        return None, None
    _, svc = find_service(e["region"], e["cluster"], e["service"])
    return e, svc


def describe_express(req, start_response):
    e, svc = express_service(req.get("serviceArn", ""))
    if e is None:
        return json_error(start_response, "ServiceNotFoundException", "Service not found.")
    cfg = {"serviceRevisionArn": f"{svc.arn}/1", "primaryContainer": e["container"], "cpu": "256", "memory": "512",
           "createdAt": epoch()}
    return json_answer(start_response, {"service": {"cluster": svc.cluster_arn, "serviceName": svc.name, "serviceArn": svc.arn,
                                                    "status": {"statusCode": "ACTIVE"}, "activeConfigurations": [cfg],
                                                    "createdAt": epoch(), "updatedAt": epoch()}})


def update_express(req, start_response):
    arn = req.get("serviceArn", "")
    e, svc = express_service(arn)
    if e is None:
        return json_error(start_response, "ServiceNotFoundException", "Service not found.")
    b = ecs(e["region"])
    with LOCK:
        e["updates"].append(req)
    # ECS's part: a new revision (registered from the request's image), a new deployment and the service
    # deployment that installs it.
    old = b.describe_task_definition(svc.task_definition)
    defs = [dict(c) for c in old.container_definitions]
    if req.get("primaryContainer", {}).get("image"):
        defs[0]["image"] = req["primaryContainer"]["image"]
        e["container"] = req["primaryContainer"]
    td = b.register_task_definition(old.family, defs, volumes=None, tags=None, network_mode=old.network_mode)
    update_service(b, {"cluster": e["cluster"], "service": e["service"], "task_definition": td.arn})
    primary = next(d for d in svc.deployments if d["status"] == "PRIMARY")
    number = primary["id"].split("/")[-1]
    rev = f"{svc.arn.replace(':service/', ':service-revision/')}/{number}"
    sd_arn = f"{svc.arn.replace(':service/', ':service-deployment/')}/{new_deployment_id().split('/')[-1]}"
    with LOCK:
        REVISIONS[rev] = managed_json(e["managed"])
        SD_STATE[sd_arn] = {"serviceDeploymentArn": sd_arn, "serviceArn": svc.arn, "clusterArn": svc.cluster_arn,
                            "createdAt": epoch(), "startedAt": epoch(), "updatedAt": epoch(), "status": "IN_PROGRESS",
                            "targetServiceRevision": {"arn": rev}, "deploymentConfiguration": {"strategy": "CANARY"}}
        SERVICE_DEPLOYMENTS[sd_arn] = (e["region"], e["cluster"], e["service"])
    svc.current_service_deployment = svc.currentServiceDeployment = sd_arn
    return json_answer(start_response, {"service": {"serviceArn": svc.arn, "cluster": svc.cluster_arn, "serviceName": svc.name,
                                                    "status": {"statusCode": "ACTIVE"},
                                                    "targetConfiguration": {"serviceRevisionArn": rev, "createdAt": epoch()},
                                                    "createdAt": epoch(), "updatedAt": epoch()}})


def cd_emit(region, info, state):
    app, group = info.get("applicationName", ""), info.get("deploymentGroupName", "")
    detail = {"instanceGroupId": "9fd2fbef-2157-40d8-91e7-6845af69e2d2", "region": region, "application": app,
              "deploymentId": info["deploymentId"], "state": state, "deploymentGroup": group}
    get_backend("events")[DEFAULT_ACCOUNT_ID][region].put_events([{
        "Source": "aws.codedeploy", "DetailType": "CodeDeploy Deployment State-change Notification",
        "Detail": json.dumps(detail), "EventBusName": "default",
        "Resources": [f"arn:aws:codedeploy:{region}:{DEFAULT_ACCOUNT_ID}:application:{app}",
                      f"arn:aws:codedeploy:{region}:{DEFAULT_ACCOUNT_ID}:deploymentgroup:{app}/{group}"]}])


def cd_apply(region, body):
    """Merge a deployment's fields and target, then emit its event (state first, event after: as CodeDeploy)."""
    dep = body.get("deployment")
    with LOCK:
        if dep:
            info = CD_DEPLOYMENTS.setdefault(dep["deploymentId"], {"createTime": epoch(), "computePlatform": "ECS",
                                                                   "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}})
            info.update(dep)
        did = (dep or {}).get("deploymentId") or body.get("deployment_id")
        if body.get("target") is not None:
            CD_TARGETS[did] = body["target"]
        if body.get("on_continue") is not None:
            CD_ON_CONTINUE[did] = body["on_continue"]
        if body.get("group"):
            g = body["group"]
            CD_GROUPS[(g["applicationName"], g["deploymentGroupName"])] = g
        info = CD_DEPLOYMENTS.get(did)
    if body.get("emit") and info:
        cd_emit(region, info, body["emit"])


def ctl_codedeploy(body):
    cd_apply(body.get("region", "us-east-1"), body)
    return {"ok": True}


def codedeploy(action, req, region, start_response):
    def missing(code, msg):
        return json_error(start_response, code, msg)
    did = req.get("deploymentId", "")
    with LOCK:
        info = CD_DEPLOYMENTS.get(did)
    if action == "GetDeployment":
        return json_answer(start_response, {"deploymentInfo": info}) if info else missing("DeploymentDoesNotExistException", f"The deployment {did} could not be found.")
    if action == "BatchGetDeployments":
        with LOCK:
            found = [CD_DEPLOYMENTS[i] for i in req.get("deploymentIds", []) if i in CD_DEPLOYMENTS]
        return json_answer(start_response, {"deploymentsInfo": found})
    if action in ("ListDeployments", "GetDeploymentGroup"):
        app, group = req.get("applicationName"), req.get("deploymentGroupName")
        statuses = req.get("includeOnlyStatuses")
        with LOCK:
            mine = [d for d in CD_DEPLOYMENTS.values() if d.get("applicationName") == app and d.get("deploymentGroupName") == group]
            known = (app, group) in CD_GROUPS
        if action == "ListDeployments":
            return json_answer(start_response, {"deployments": [d["deploymentId"] for d in mine if not statuses or d.get("status") in statuses]})
        if not mine and not known:
            return missing("DeploymentGroupDoesNotExistException", f"No Deployment Group found for name: {group}")
        info = {"applicationName": app, "deploymentGroupName": group, "computePlatform": "ECS"}
        if mine:
            last = max(mine, key=lambda d: d.get("createTime", 0))
            info["lastAttemptedDeployment"] = {"deploymentId": last["deploymentId"], "status": last.get("status"), "createTime": last.get("createTime")}
        return json_answer(start_response, {"deploymentGroupInfo": info})
    if action == "CreateDeployment":
        app, group = req.get("applicationName"), req.get("deploymentGroupName")
        with LOCK:
            g = CD_GROUPS.get((app, group))
        if g is None:
            return missing("DeploymentGroupDoesNotExistException", f"No Deployment Group found for name: {group}")
        new_id = "d-" + "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(9))
        dep = dict(g.get("deployment", {}), deploymentId=new_id, applicationName=app, deploymentGroupName=group,
                   status="InProgress", revision=req.get("revision"), createTime=epoch())
        cd_apply(region, {"deployment": dep, "target": g.get("target"), "emit": "START"})
        return json_answer(start_response, {"deploymentId": new_id})
    if action == "GetDeploymentTarget":
        if info is None:
            return missing("DeploymentDoesNotExistException", f"The deployment {did} could not be found.")
        with LOCK:
            t = CD_TARGETS.get(did)
        if t is None:
            return missing("DeploymentNotStartedException", "The deployment has not started.")
        t = dict(t, deploymentId=did, targetId=req.get("targetId"))
        return json_answer(start_response, {"deploymentTarget": {"deploymentTargetType": "ECSTarget", "ecsTarget": t}})
    if action == "ContinueDeployment":
        if info is None:
            return missing("DeploymentDoesNotExistException", f"The deployment {did} could not be found.")
        if info.get("status") != "Ready":
            return missing("DeploymentIsNotInReadyStateException", "The deployment is not in the Ready state.")
        with LOCK:
            info["status"] = "InProgress"
            then = CD_ON_CONTINUE.pop(did, None)
        if then:
            # CodeDeploy goes on after the reroute: later, as a test set it.
            def later():
                time.sleep(then.get("delay", 0.3))
                cd_apply(region, dict(then, deployment=dict(then.get("deployment", {}), deploymentId=did)))
            threading.Thread(target=later, daemon=True).start()
        return json_answer(start_response, {})
    if action == "StopDeployment":
        if info is None:
            return missing("DeploymentDoesNotExistException", f"The deployment {did} could not be found.")
        with LOCK:
            info["status"] = "Stopped"
            info["errorInformation"] = {"code": "MANUAL_STOP", "message": "The deployment was stopped by a user."}
        cd_emit(region, info, "STOP")
        return json_answer(start_response, {"status": "Succeeded", "statusMessage": "No more commands will be scheduled for execution in the deployment instances"})
    return json_error(start_response, "UnsupportedOperation", action)


def ctl_run_outcome(body):
    with LOCK:
        RUN_OUTCOMES[body["cluster"].split("/")[-1]].append(body)
    return {"ok": True}


def iso(d):
    return d.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def task_detail(t, status, version, outcome):
    """An `ECS Task State Change` detail for a standalone task, in the shape of the docs' samples."""
    stopped = status == "STOPPED"
    given = {c["name"]: c for c in outcome.get("containers", [])}
    containers = []
    for c in t.containers_out:
        item = {"containerArn": f"{t.task_arn}/{c}", "lastStatus": status if status != "PENDING" else "PENDING",
                "name": c, "taskArn": t.task_arn, "image": "example/app:latest"}
        if stopped:
            g = given.get(c, {"exitCode": 0})
            if g.get("exitCode") is not None:
                item["exitCode"] = g["exitCode"]
            if g.get("reason"):
                item["reason"] = g["reason"]
        containers.append(item)
    d = {"attachments": [], "availabilityZone": "us-east-1a", "clusterArn": t.cluster_arn, "containers": containers,
         "createdAt": iso(now()), "desiredStatus": "STOPPED" if stopped else "RUNNING", "group": t.group,
         "launchType": t.launch_type or "FARGATE", "lastStatus": status, "startedBy": t.started_by,
         "taskArn": t.task_arn, "taskDefinitionArn": t.task_definition_arn, "updatedAt": iso(now()),
         "version": version}
    if stopped:
        d["stopCode"] = outcome.get("stopCode", "EssentialContainerExited")
        d["stoppedReason"] = outcome.get("stoppedReason", "Essential container in task exited")
        d["stoppedAt"] = iso(now())
    return d


def play_task(region, task_arn, outcome):
    """One placed task through its lifecycle, as ECS plays it: state in the API first, then its event."""
    b = ecs(region)
    t = next(x for tasks in b.tasks.values() for x in tasks.values() if x.task_arn == task_arn)
    td = b.describe_task_definition(t.task_definition_arn)
    t.containers_out = [c["name"] for c in td.container_definitions]
    path = outcome.get("path", ["PENDING", "RUNNING", "STOPPED"])
    for version, status in enumerate(path, start=1):
        time.sleep(outcome.get("delay", 0.3))
        if status == "STOPPED":
            for c in td.container_definitions:
                lc = c.get("logConfiguration") or {}
                o = lc.get("options") or {}
                if outcome.get("logs") and lc.get("logDriver") == "awslogs" and c["name"] == outcome.get("log_container", c["name"]):
                    logs = get_backend("logs")[DEFAULT_ACCOUNT_ID][region]
                    group, stream = o["awslogs-group"], f"{o.get('awslogs-stream-prefix', 'ecs')}/{c['name']}/{task_arn.split('/')[-1]}"
                    if group not in logs.groups:
                        logs.create_log_group(group, {})
                    try:
                        logs.create_log_stream(group, stream)
                    except Exception:
                        pass
                    ms = int(time.time() * 1000)
                    logs.put_log_events(group, stream, [{"timestamp": ms + i, "message": m} for i, m in enumerate(outcome["logs"])])
            given = {c["name"]: c for c in outcome.get("containers", [])}
            t.stop_code = outcome.get("stopCode", "EssentialContainerExited")
            t.stopped_reason = outcome.get("stoppedReason", "Essential container in task exited")
            t.stopped_at = now()
            t.stopping_at = now()
            t.desired_status = "STOPPED"
            t.containers = [C(task_arn, {"name": n, **{k: v for k, v in given.get(n, {"exitCode": 0}).items() if k != "name"}})
                            for n in t.containers_out]
        t.status = status
        t.version = version
        get_backend("events")[DEFAULT_ACCOUNT_ID][region].put_events([{
            "Source": "aws.ecs", "DetailType": "ECS Task State Change",
            "Detail": json.dumps(task_detail(t, status, version, outcome)), "Resources": [task_arn],
            "EventBusName": "default"}])


def run_task(layer, environ, start_response, region):
    """RunTask with the outcome a test set for the cluster (moto's own answer when it set none)."""
    size = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(size)
    environ["wsgi.input"] = io.BytesIO(raw)
    req = json.loads(raw or b"{}")
    cluster = req.get("cluster", "default").split("/")[-1]
    with LOCK:
        queue = RUN_OUTCOMES.get(cluster)
        outcome = queue.pop(0) if queue else None
    if outcome is None:
        return layer.app(environ, start_response)
    if outcome.get("failures"):
        return json_answer(start_response, {"tasks": [], "failures": outcome["failures"]})
    got = {}

    def capture(status, headers, exc_info=None):
        got["status"], got["headers"] = status, headers
        return lambda _: None

    body = b"".join(layer.app(environ, capture))
    if got["status"].startswith("200"):
        for t in json.loads(body).get("tasks", []):
            threading.Thread(target=play_task, args=(region, t["taskArn"], outcome), daemon=True).start()
    start_response(got["status"], got["headers"])
    return [body]


def ctl_target_group(body):
    """A target group with a health check, in the default VPC (moto wants a VPC; tests have no EC2 client)."""
    region = body.get("region", "us-east-1")
    ec2b = get_backend("ec2")[DEFAULT_ACCOUNT_ID][region]
    vpc = ec2b.get_default_vpc() or ec2b.create_default_vpc()
    elb = get_backend("elbv2")[DEFAULT_ACCOUNT_ID][region]
    port = body.get("port", 8080)
    tg = elb.create_target_group(body["name"], vpc_id=vpc.id, protocol="HTTP", port=port, target_type="ip",
                                 healthcheck_protocol="HTTP", healthcheck_port=str(port),
                                 healthcheck_path=body.get("path", "/"), matcher={"HttpCode": body.get("matcher", "200")})
    return {"arn": tg.arn}


def ctl_target_health(body):
    """What DescribeTargetHealth answers for a target group (moto reports every target healthy)."""
    with LOCK:
        TARGET_HEALTH[body["target_group_arn"]] = body["targets"]
    return {"ok": True}


def target_health_xml(targets):
    members = "".join(
        f"<member><Target><Id>{t['id']}</Id><Port>{t.get('port', 80)}</Port></Target>"
        f"<HealthCheckPort>{t.get('port', 80)}</HealthCheckPort><TargetHealth><State>{t['state']}</State>"
        + (f"<Reason>{t['reason']}</Reason>" if t.get("reason") else "")
        + (f"<Description>{t['description']}</Description>" if t.get("description") else "")
        + "</TargetHealth></member>"
        for t in targets)
    return ('<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">'
            f"<DescribeTargetHealthResult><TargetHealthDescriptions>{members}</TargetHealthDescriptions>"
            "</DescribeTargetHealthResult><ResponseMetadata><RequestId>ecsgate-emulator</RequestId>"
            "</ResponseMetadata></DescribeTargetHealthResponse>").encode()


def ctl_fault(body):
    f = dict(body)
    f["until"] = time.time() + body["seconds"] if "seconds" in body else None
    f["remaining"] = body.get("count")
    with LOCK:
        FAULTS.append(f)
    return {"ok": True}


def read_counted(environ, key, service, action):
    """The JSON body of a call our layer answers itself, counted and logged as moto's calls are."""
    size = int(environ.get("CONTENT_LENGTH") or 0)
    req = json.loads(environ["wsgi.input"].read(size) or b"{}")
    with LOCK:
        CALLS[key][f"{service}.{action}"] += 1
        LOG[key].append(f"{service}.{action}")
    return req


def hang_or_fail(f):
    """A stalled endpoint (a fault with `hang`): the answer is held back, then given (or the fault's error)."""
    if f.get("hang"):
        time.sleep(f["hang"])


def injected(start_response, f):
    """The JSON error a test injected with /_ecsgate/fault."""
    return json_error(start_response, f.get("code", "InternalFailure"), f"injected {f.get('code')}")


def match_fault(key, service, action):
    with LOCK:
        for f in FAULTS:
            if f["key"] != key or f.get("service", service) != service or f.get("action", action) != action:
                continue
            if f["until"] is not None and time.time() > f["until"]:
                continue
            if f["remaining"] is not None:
                if f["remaining"] <= 0:
                    continue
                f["remaining"] -= 1
            return f
    return None


AUTH = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/")


class Layer:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_ecsgate/"):
            return self.control(path, environ, start_response)
        m = AUTH.search(environ.get("HTTP_AUTHORIZATION", ""))
        key, region, service = (m.group(1), m.group(2), m.group(3)) if m else ("", "us-east-1", "")
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action = target.split(".")[-1] if target else parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
        form = {}
        if not action and environ.get("REQUEST_METHOD") == "POST" and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            # Query-protocol services (elbv2) put the action in the body: read it, and hand moto a copy.
            size = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(size)
            environ["wsgi.input"] = io.BytesIO(raw)
            form = parse_qs(raw.decode())
            action = form.get("Action", [""])[0]
        if path.startswith("/service/GraniteServiceVersion20100801/operation/"):
            # CloudWatch's rpc-v2-cbor: the operation is the path's last part.
            action = path.rsplit("/", 1)[-1]
            size = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(size)
            with LOCK:
                CALLS[key][f"{service}.{action}"] += 1
                LOG[key].append(f"{service}.{action}")
            f = match_fault(key, service, action)
            if f:
                code = f.get("code", "InternalFailure")
                data = cbor2.dumps({"__type": code, "message": f"injected {code}"})
                start_response("400 Bad Request" if f.get("status") == 400 else "500 Internal Server Error",
                               [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                                ("Content-Length", str(len(data)))])
                return [data]
            if action == "DescribeAlarms":
                return describe_alarms_cbor(raw, start_response)
            return json_error(start_response, "UnsupportedOperation", action)
        if target.startswith("CodeDeploy_20141006."):
            req = read_counted(environ, key, service, action)
            f = match_fault(key, service, action)
            if f:
                hang_or_fail(f)
                if "code" in f or not f.get("hang"):
                    return injected(start_response, f)
            return codedeploy(action, req, region, start_response)
        if action in ("DescribeServiceRevisions", "DescribeExpressGatewayService", "UpdateExpressGatewayService"):
            req = read_counted(environ, key, service, action)
            f = match_fault(key, service, action)
            if f:
                hang_or_fail(f)
                if "code" in f or not f.get("hang"):
                    return injected(start_response, f)
            return {"DescribeServiceRevisions": describe_service_revisions, "DescribeExpressGatewayService": describe_express,
                    "UpdateExpressGatewayService": update_express}[action](req, start_response)
        if action in ("ContinueServiceDeployment", "ListServiceDeployments"):
            req = read_counted(environ, key, service, action)
            if action == "ContinueServiceDeployment":
                return continue_service_deployment(req, start_response)
            return list_service_deployments(req, start_response)
        if action == "DescribeServiceDeployments":
            req = read_counted(environ, key, service, action)
            arns = req.get("serviceDeploymentArns", [])
            found = [SD_STATE[a] for a in arns if a in SD_STATE]
            failures = [{"arn": a, "reason": "MISSING"} for a in arns if a not in SD_STATE]
            data = json.dumps({"serviceDeployments": found, "failures": failures}).encode()
            start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))])
            return [data]
        if action == "StopServiceDeployment":
            # moto lacks the ServiceDeployment API: ECS's part is a rollback to the previous revision.
            size = int(environ.get("CONTENT_LENGTH") or 0)
            req = json.loads(environ["wsgi.input"].read(size) or b"{}")
            arn = req.get("serviceDeploymentArn", "")
            with LOCK:
                CALLS[key][f"{service}.{action}"] += 1
                LOG[key].append(f"{service}.{action}")
                STOPPED.append((arn, req.get("stopType")))
            if arn not in SERVICE_DEPLOYMENTS:
                body = json.dumps({"__type": "ServiceDeploymentNotFoundException", "message": f"no {arn}"}).encode()
                start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))])
                return [body]
            region, cluster, name = SERVICE_DEPLOYMENTS[arn]
            _, svc = find_service(region, cluster, name)
            primary = next(d for d in svc.deployments if d["status"] == "PRIMARY")
            previous = max((d for d in svc.deployments if d is not primary), key=lambda d: d["createdAt"])
            primary["status"] = "ACTIVE"
            primary["rolloutState"] = "FAILED"
            rollback = dict(previous)
            rollback.update({"id": new_deployment_id(), "status": "PRIMARY", "rolloutState": "IN_PROGRESS",
                             "createdAt": now(), "updatedAt": now(),
                             "rolloutStateReason": f"ECS deployment rolling back to deploymentId {previous['id']}."})
            svc.deployments.insert(0, rollback)
            data = json.dumps({"serviceDeploymentArn": arn}).encode()
            start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))])
            return [data]
        if action == "RunTask":
            with LOCK:
                CALLS[key][f"{service}.{action}"] += 1
                LOG[key].append(f"{service}.{action}")
            f = match_fault(key, service, action)
            if f is None:
                return run_task(self, environ, start_response, region)
            code = f.get("code", "InternalFailure")
            body = json.dumps({"__type": code, "message": f.get("message", f"injected {code}")}).encode()
            status = {500: "500 Internal Server Error", 400: "400 Bad Request"}[f.get("status", 500)]
            start_response(status, [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))])
            return [body]
        if action == "DescribeTargetHealth":
            arn = form.get("TargetGroupArn", [""])[0]
            with LOCK:
                canned = TARGET_HEALTH.get(arn)
            if canned is not None:
                with LOCK:
                    CALLS[key][f"{service}.{action}"] += 1
                    LOG[key].append(f"{service}.{action}")
                data = target_health_xml(canned)
                start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
                return [data]
        with LOCK:
            CALLS[key][f"{service}.{action}"] += 1
            LOG[key].append(f"{service}.{action}")
        f = match_fault(key, service, action)
        if f and f.get("hang"):
            # A stalled endpoint: the connection is accepted and the answer held back (then given, or
            # the fault's error if it names one).
            time.sleep(f["hang"])
            if "code" not in f:
                return self.app(environ, start_response)
        if f:
            code = f.get("code", "InternalFailure")
            body = json.dumps({"__type": code, "message": f.get("message", f"injected {code}")}).encode()
            status = {500: "500 Internal Server Error", 503: "503 Service Unavailable", 400: "400 Bad Request"}[f.get("status", 500)]
            start_response(status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code),
                                    ("x-amzn-query-error", f"{code};Sender"), ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)

    def control(self, path, environ, start_response):
        try:
            if path == "/_ecsgate/calls":
                key = parse_qs(environ.get("QUERY_STRING", "")).get("key", [""])[0]
                with LOCK:
                    out = dict(CALLS.get(key, {}))
            elif path == "/_ecsgate/log":
                key = parse_qs(environ.get("QUERY_STRING", "")).get("key", [""])[0]
                with LOCK:
                    out = list(LOG.get(key, []))
            else:
                size = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(size) or b"{}")
                handler = {"/_ecsgate/deployment": ctl_deployment, "/_ecsgate/task": ctl_task,
                           "/_ecsgate/fault": ctl_fault, "/_ecsgate/target_health": ctl_target_health,
                           "/_ecsgate/target_group": ctl_target_group, "/_ecsgate/service_config": ctl_service_config,
                           "/_ecsgate/service_deployment": ctl_service_deployment, "/_ecsgate/alarm": ctl_alarm,
                           "/_ecsgate/run_outcome": ctl_run_outcome, "/_ecsgate/express": ctl_express,
                           "/_ecsgate/codedeploy": ctl_codedeploy, "/_ecsgate/hub_put": ctl_hub_put,
                           "/_ecsgate/forget_tasks": ctl_forget_tasks}[path]
                out = handler(body)
            data = json.dumps(out, default=str).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        except Exception as e:  # a test's mistake: answer it plainly
            data = json.dumps({"error": f"{type(e).__name__}: {e}"}).encode()
            start_response("400 Bad Request", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})
    app = Layer(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", a.port, app, threaded=True, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
