# ecsgate hub, as Terraform: the same resources as hub/template.yaml (the CloudFormation template, which
# stays the reference): one EventBridge rule on the default bus -> a small Lambda function (index.py, a
# copy of the template's inline code) -> a DynamoDB table keyed by service -> an SSM parameter naming the
# table, which `ecsgate wait --hub auto` reads. tests/integrations/hub_terraform.py checks that the two agree.
#
# Unlike the template (DeletionPolicy: Retain), `terraform destroy` deletes the table and its history.

data "aws_partition" "current" {}

locals {
  # Every ECS event a gate reads: the template's Rule and ForwardRule EventPattern.
  event_pattern = {
    source = ["aws.ecs"]
    "detail-type" = [
      "ECS Deployment State Change",
      "ECS Service Action",
      "ECS Task State Change",
      "ECS Hook State Change",
    ]
  }
  forward = var.forward_to_bus_arn != ""
}

resource "aws_dynamodb_table" "hub" {
  name         = var.name_prefix
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "key"
  range_key    = "at"

  attribute {
    name = "key"
    type = "S"
  }

  attribute {
    name = "at"
    type = "S"
  }

  ttl {
    attribute_name = "expires"
    enabled        = true
  }

  server_side_encryption {
    enabled = true
  }

  point_in_time_recovery {
    enabled = false
  }

  tags = var.tags
}

resource "aws_iam_role" "ingest" {
  name_prefix = "${var.name_prefix}-ingest-"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "ingest" {
  name = "put-events-in-the-table"
  role = aws_iam_role.ingest.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "dynamodb:PutItem"
      Resource = aws_dynamodb_table.hub.arn
    }]
  })
}

resource "aws_iam_role_policy_attachment" "ingest_logs" {
  role       = aws_iam_role.ingest.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

# Why a Lambda function and not Step Functions Express -> DynamoDB: see hub/template.yaml. The code is
# index.py, byte for byte the template's ZipFile block (the one the emulator tests).
data "archive_file" "ingest" {
  type        = "zip"
  source_file = "${path.module}/index.py"
  output_path = "${path.module}/.build/ingest.zip"
}

resource "aws_lambda_function" "ingest" {
  function_name    = "${var.name_prefix}-ingest"
  description      = "ecsgate hub — writes ECS events into the table, keyed by service."
  runtime          = "python3.12"
  handler          = "index.handler"
  timeout          = 10
  memory_size      = 128
  role             = aws_iam_role.ingest.arn
  filename         = data.archive_file.ingest.output_path
  source_code_hash = data.archive_file.ingest.output_base64sha256

  environment {
    variables = {
      TABLE          = aws_dynamodb_table.hub.name
      RETENTION_DAYS = tostring(var.retention_days)
    }
  }

  tags = var.tags

  # The role's policies first: an event delivered before then would fail its write.
  depends_on = [aws_iam_role_policy.ingest, aws_iam_role_policy_attachment.ingest_logs]
}

resource "aws_cloudwatch_event_rule" "ingest" {
  name           = "${var.name_prefix}-ingest"
  description    = "ecsgate hub — every ECS event a gate reads."
  event_bus_name = "default"
  event_pattern  = jsonencode(local.event_pattern)
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "ingest" {
  rule           = aws_cloudwatch_event_rule.ingest.name
  event_bus_name = "default"
  target_id      = "ingest"
  arn            = aws_lambda_function.ingest.arn

  retry_policy {
    maximum_retry_attempts       = 185
    maximum_event_age_in_seconds = 86400
  }
}

resource "aws_lambda_permission" "ingest" {
  statement_id  = "ecsgate-hub-rule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.ingest.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.ingest.arn
}

# Optional: a workload account forwards its ECS events to a central account's bus.
resource "aws_iam_role" "forward" {
  count       = local.forward ? 1 : 0
  name_prefix = "${var.name_prefix}-forward-"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "forward" {
  count = local.forward ? 1 : 0
  name  = "put-on-the-central-bus"
  role  = aws_iam_role.forward[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "events:PutEvents"
      Resource = var.forward_to_bus_arn
    }]
  })
}

resource "aws_cloudwatch_event_rule" "forward" {
  count          = local.forward ? 1 : 0
  name           = "${var.name_prefix}-forward"
  description    = "ecsgate hub — forwards this account's ECS events to the central bus."
  event_bus_name = "default"
  event_pattern  = jsonencode(local.event_pattern)
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "forward" {
  count          = local.forward ? 1 : 0
  rule           = aws_cloudwatch_event_rule.forward[0].name
  event_bus_name = "default"
  target_id      = "central"
  arn            = var.forward_to_bus_arn
  role_arn       = aws_iam_role.forward[0].arn
}

resource "aws_ssm_parameter" "table" {
  name        = var.parameter_name
  description = "The ecsgate hub's DynamoDB table (ecsgate wait --hub auto reads it)."
  type        = "String"
  value       = aws_dynamodb_table.hub.name
  tags        = var.tags
}
