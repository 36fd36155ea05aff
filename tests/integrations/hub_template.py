#!/usr/bin/env python3
"""The hub's CloudFormation template (hub/template.yaml) deploys: two stacks on the emulator (moto's
CloudFormation), one as a central account installs it and one forwarding to a central bus, and the
resources they create are the ones the template declares. Run with the test venv's python, with
ECSGATE_EMULATOR set (scripts/test.sh starts the emulator). Uses a region no other test uses (sa-east-1).

What moto 5.2.5 leaves out when it creates the resources, so checked here in the template as deployed
(GetTemplate) instead of on the resource (the template is right for AWS):
- AWS::DynamoDB::Table: TimeToLiveSpecification is not applied (DescribeTimeToLive says DISABLED), and
  SSESpecification is passed on as is, so `SSEEnabled` (CloudFormation's name) is not read as `Enabled`
  (the DynamoDB API's name) and DescribeTable has no SSEDescription.
- AWS::IAM::Role: ManagedPolicyArns are not attached (inline Policies are, but GetRolePolicy then answers
  them as a Python repr rather than JSON: read either way).
Where the emulator does apply them (a later moto), they are checked on the resource.
"""
import ast
import json
import os
import sys
import time
import uuid

import boto3
import yaml
from botocore.exceptions import ClientError

REGION = "sa-east-1"
CENTRAL_BUS = "arn:aws:events:sa-east-1:210987654321:event-bus/default"
FORWARD_PARAMETER = "/ecsgate/hub/forwarding-check"
ECS_DETAIL_TYPES = {"ECS Deployment State Change", "ECS Service Action", "ECS Task State Change", "ECS Hook State Change"}
notes = []


def fail(msg):
    print(f"FAIL hub template: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !Sub, !GetAtt …) kept as plain mappings."""


def _short_form(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _short_form)


def clients():
    endpoint = os.environ.get("ECSGATE_EMULATOR")
    if not endpoint:
        fail("ECSGATE_EMULATOR is not set (start the emulator first: scripts/test.sh does)")
    if not endpoint.startswith(("http://127.0.0.1:", "http://localhost:")):
        fail(f"ECSGATE_EMULATOR must be the local emulator, not {endpoint}")
    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="hubtemplatecheck",
              aws_secret_access_key="testing")
    return {name: boto3.client(name, **kw) for name in ("cloudformation", "dynamodb", "events", "lambda", "ssm", "iam")}


def create(cf, name, parameters):
    try:
        cf.create_stack(StackName=name, TemplateBody=open("hub/template.yaml").read(), Capabilities=["CAPABILITY_IAM"],
                        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    except ClientError as e:  # moto creates the resources within CreateStack: a resource's failure comes back here
        fail(f"CreateStack {name} {parameters or '(defaults)'} failed: {e}")
    deadline = time.time() + 60
    while True:
        stack = cf.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.time() > deadline:
            break
        time.sleep(0.5)
    if stack["StackStatus"] != "CREATE_COMPLETE":
        failed = [f"{e.get('LogicalResourceId')} {e['ResourceStatus']}: {e.get('ResourceStatusReason')}"
                  for e in cf.describe_stack_events(StackName=name)["StackEvents"] if "FAILED" in e["ResourceStatus"]]
        fail(f"stack {name} is {stack['StackStatus']} ({stack.get('StackStatusReason')}); {failed}")
    resources = {r["LogicalResourceId"]: r for r in cf.list_stack_resources(StackName=name)["StackResourceSummaries"]
                 if r.get("LogicalResourceId")}  # moto lists a resource whose Condition is false as a blank entry
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    template = cf.get_template(StackName=name)["TemplateBody"]
    if isinstance(template, str):
        template = yaml.load(template, Loader=CfnLoader)
    return resources, outputs, template


def physical(resources, logical, rtype, stack):
    r = resources.get(logical)
    check(r is not None, f"stack {stack} has no resource {logical} ({rtype}); it has {sorted(resources)}")
    check(r["ResourceType"] == rtype, f"{stack}/{logical} is {r['ResourceType']}, not {rtype}")
    check(r["ResourceStatus"] == "CREATE_COMPLETE", f"{stack}/{logical} is {r['ResourceStatus']}")
    return r.get("PhysicalResourceId")


def role_policy(c, role, name):
    """A role's inline policy as a dict. moto keeps a CloudFormation role's inline policy as the parsed
    template gave it and answers GetRolePolicy with its Python repr (single quotes), not JSON."""
    doc = c["iam"].get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            doc = ast.literal_eval(doc)
    return doc


def rule_pattern_ok(rule):
    pattern = json.loads(rule["EventPattern"])
    return pattern.get("source") == ["aws.ecs"] and set(pattern.get("detail-type") or []) == ECS_DETAIL_TYPES


def check_central(c, stack):
    resources, outputs, template = create(c["cloudformation"], stack, {})
    declared = template["Resources"]
    check("ForwardRule" not in resources and "ForwardRole" not in resources,
          f"{stack}: forwarding resources exist without ForwardToBusArn: {sorted(resources)}")

    # The table: key HASH, at RANGE; TTL on `expires`; on-demand.
    table = physical(resources, "Table", "AWS::DynamoDB::Table", stack)
    check(outputs.get("TableName") == table, f"{stack}: output TableName {outputs.get('TableName')} is not {table}")
    desc = c["dynamodb"].describe_table(TableName=table)["Table"]
    keys = {k["AttributeName"]: k["KeyType"] for k in desc["KeySchema"]}
    check(keys == {"key": "HASH", "at": "RANGE"}, f"table {table} key schema is {desc['KeySchema']}")
    attrs = {a["AttributeName"]: a["AttributeType"] for a in desc["AttributeDefinitions"]}
    check(attrs == {"key": "S", "at": "S"}, f"table {table} attributes are {desc['AttributeDefinitions']}")
    check((desc.get("BillingModeSummary") or {}).get("BillingMode") == "PAY_PER_REQUEST",
          f"table {table} is not on-demand: {desc.get('BillingModeSummary')}")
    ttl = c["dynamodb"].describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        check(ttl.get("AttributeName") == "expires", f"table {table} TTL is on {ttl.get('AttributeName')}, not expires")
    else:
        spec = declared["Table"]["Properties"].get("TimeToLiveSpecification")
        check(spec == {"AttributeName": "expires", "Enabled": True}, f"{stack}: the Table's TimeToLiveSpecification is {spec}")
        notes.append("TTL declared, not applied by moto")
    if not desc.get("SSEDescription"):
        spec = declared["Table"]["Properties"].get("SSESpecification")
        check(spec == {"SSEEnabled": True}, f"{stack}: the Table's SSESpecification is {spec}")
        notes.append("SSE declared, not applied by moto")

    # The SSM parameter gates read (`--hub auto`): the default name, the table's name as value.
    name = physical(resources, "TableParameter", "AWS::SSM::Parameter", stack)
    check(name == "/ecsgate/hub/table", f"{stack}: the parameter is {name}, not /ecsgate/hub/table")
    check(outputs.get("ParameterName") == name, f"{stack}: output ParameterName is {outputs.get('ParameterName')}")
    value = c["ssm"].get_parameter(Name="/ecsgate/hub/table")["Parameter"]["Value"]
    check(value == table, f"/ecsgate/hub/table is {value!r}, not the table {table!r}")

    # The function: python3.12, TABLE and RETENTION_DAYS in its environment, the ingest role.
    function = physical(resources, "Ingest", "AWS::Lambda::Function", stack)
    fn = c["lambda"].get_function(FunctionName=function)["Configuration"]
    check(fn["Runtime"] == "python3.12" and fn["Handler"] == "index.handler", f"function {function}: {fn['Runtime']} {fn['Handler']}")
    env = (fn.get("Environment") or {}).get("Variables") or {}
    check(env.get("TABLE") == table, f"function {function}: TABLE is {env.get('TABLE')!r}, not {table!r}")
    check(str(env.get("RETENTION_DAYS")) == "30", f"function {function}: RETENTION_DAYS is {env.get('RETENTION_DAYS')!r}")
    role = physical(resources, "IngestRole", "AWS::IAM::Role", stack)
    check(fn["Role"].endswith(f":role/{role}"), f"function {function} runs as {fn['Role']}, not the role {role}")
    inline = role_policy(c, role, "put-events-in-the-table")
    stmt = inline["Statement"][0]
    check(stmt["Action"] == "dynamodb:PutItem" and stmt["Resource"] == desc["TableArn"],
          f"role {role}: put-events-in-the-table is {stmt}")
    attached = c["iam"].list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    if not attached:
        check(any("AWSLambdaBasicExecutionRole" in json.dumps(a) for a in declared["IngestRole"]["Properties"]["ManagedPolicyArns"]),
              f"{stack}: IngestRole declares no AWSLambdaBasicExecutionRole")
        notes.append("managed policy declared, not attached by moto")
    else:
        check(any(a["PolicyName"] == "AWSLambdaBasicExecutionRole" for a in attached), f"role {role}: {attached}")

    # The rule: on the default bus, ECS's four detail types, the function as its target; allowed to invoke it.
    rule = physical(resources, "Rule", "AWS::Events::Rule", stack)
    r = c["events"].describe_rule(Name=rule, EventBusName="default")
    check(r["State"] == "ENABLED" and r.get("EventBusName", "default") == "default", f"rule {rule}: {r}")
    check(rule_pattern_ok(r), f"rule {rule}: pattern {r['EventPattern']}")
    targets = c["events"].list_targets_by_rule(Rule=rule, EventBusName="default")["Targets"]
    check([t["Arn"] for t in targets] == [fn["FunctionArn"]], f"rule {rule} targets {targets}, not {fn['FunctionArn']}")
    physical(resources, "InvokePermission", "AWS::Lambda::Permission", stack)
    policy = json.loads(c["lambda"].get_policy(FunctionName=function)["Policy"])
    check(any(s.get("Principal", {}).get("Service") == "events.amazonaws.com" and s.get("Action") == "lambda:InvokeFunction"
              and r["Arn"] in json.dumps(s.get("Condition", {})) for s in policy["Statement"]),
          f"function {function}: no permission for the rule {r['Arn']}: {policy}")
    return table


def check_forwarding(c, stack):
    resources, outputs, _ = create(c["cloudformation"], stack,
                                   {"ForwardToBusArn": CENTRAL_BUS, "ParameterName": FORWARD_PARAMETER})
    table = physical(resources, "Table", "AWS::DynamoDB::Table", stack)
    value = c["ssm"].get_parameter(Name=FORWARD_PARAMETER)["Parameter"]["Value"]
    check(value == table, f"{FORWARD_PARAMETER} is {value!r}, not the table {table!r}")
    rule = physical(resources, "ForwardRule", "AWS::Events::Rule", stack)
    role = physical(resources, "ForwardRole", "AWS::IAM::Role", stack)
    r = c["events"].describe_rule(Name=rule, EventBusName="default")
    check(r["State"] == "ENABLED" and rule_pattern_ok(r), f"forwarding rule {rule}: {r}")
    targets = c["events"].list_targets_by_rule(Rule=rule, EventBusName="default")["Targets"]
    check(len(targets) == 1 and targets[0]["Arn"] == CENTRAL_BUS and targets[0].get("RoleArn", "").endswith(f":role/{role}"),
          f"forwarding rule {rule} targets {targets}, not {CENTRAL_BUS} with the role {role}")
    inline = role_policy(c, role, "put-on-the-central-bus")
    stmt = inline["Statement"][0]
    check(stmt["Action"] == "events:PutEvents" and stmt["Resource"] == CENTRAL_BUS, f"role {role}: {stmt}")
    physical(resources, "Rule", "AWS::Events::Rule", stack)  # the stack's own ingestion is there too
    return table


def cleanup(c, stacks):
    """Best effort: the stacks, then the tables they retain (DeletionPolicy: Retain)."""
    for name in stacks:
        try:
            c["cloudformation"].delete_stack(StackName=name)
        except Exception as e:  # noqa: BLE001
            print(f"note: could not delete stack {name}: {e}", file=sys.stderr)
    try:
        tables = c["dynamodb"].list_tables()["TableNames"]
    except Exception:  # noqa: BLE001
        return
    for table in tables:
        if any(table.startswith(f"{name}-Table-") for name in stacks):
            try:
                c["dynamodb"].delete_table(TableName=table)
            except Exception as e:  # noqa: BLE001
                print(f"note: could not delete table {table}: {e}", file=sys.stderr)


def main():
    c = clients()
    run = uuid.uuid4().hex[:8]
    central, forwarding = f"ecsgate-hub-{run}", f"ecsgate-hub-fwd-{run}"
    stacks = []
    try:
        stacks.append(central)
        check_central(c, central)
        stacks.append(forwarding)
        check_forwarding(c, forwarding)
    finally:
        cleanup(c, stacks)
    extra = f" ({'; '.join(dict.fromkeys(notes))})" if notes else ""
    print(f"ok: hub template deploys (CloudFormation on the emulator, {REGION}): table key/at, parameter "
          f"/ecsgate/hub/table, ingest function and ECS rule; with ForwardToBusArn, the forwarding rule{extra}")


if __name__ == "__main__":
    main()
