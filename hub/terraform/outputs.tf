output "table_name" {
  description = "The hub's DynamoDB table (`ecsgate wait --hub TABLE` names it directly)."
  value       = aws_dynamodb_table.hub.name
}

output "table_arn" {
  description = "The table's ARN: gates need dynamodb:Query on it."
  value       = aws_dynamodb_table.hub.arn
}

output "parameter_name" {
  description = "The SSM parameter naming the table: gates need ssm:GetParameter on it."
  value       = aws_ssm_parameter.table.name
}

output "rule_arn" {
  description = "The EventBridge rule on the default bus that feeds the table."
  value       = aws_cloudwatch_event_rule.ingest.arn
}

output "function_name" {
  description = "The Lambda function that writes ECS events into the table."
  value       = aws_lambda_function.ingest.function_name
}
