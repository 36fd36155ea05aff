# ecsgate hub ingestion: ECS event -> items keyed by service (the emulator runs this file's code).
import json
import os
import time

def keys(event):
    """The services an event belongs to: service ARNs (tasks: cluster ARN + group)."""
    d = event.get("detail") or {}
    kind = event.get("detail-type")
    if kind == "ECS Task State Change":
        group, cluster = d.get("group") or "", d.get("clusterArn") or ""
        if group.startswith("service:") and ":cluster/" in cluster:
            return [cluster.replace(":cluster/", ":service/", 1) + "/" + group[8:]]
        return [cluster + "#" + group] if cluster else []
    if kind == "ECS Hook State Change" and d.get("serviceArn"):
        return [d["serviceArn"]]
    return sorted({r for r in event.get("resources") or [] if ":service/" in r})

def items(event, now=None):
    """One item per service: the event as received, ordered by time then id."""
    now = time.time() if now is None else now
    days = int(os.environ.get("RETENTION_DAYS", "30"))
    body = json.dumps(event, separators=(",", ":"))
    at = "%s#%s" % (event.get("time", ""), event.get("id", ""))
    return [{"key": k, "at": at, "event": body, "expires": int(now) + days * 86400} for k in keys(event)]

def handler(event, context):
    import boto3
    table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
    for item in items(event):
        table.put_item(Item=item)

