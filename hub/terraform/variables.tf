# The template's parameters (hub/template.yaml: RetentionDays, ParameterName, ForwardToBusArn), same
# defaults and constraints; name_prefix and tags are Terraform's own (the template lets CloudFormation name).

variable "retention_days" {
  description = "Days an event stays in the table (DynamoDB TTL); history and explain reach this far back."
  type        = number
  default     = 30

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of days from 1 to 3650."
  }
}

variable "parameter_name" {
  description = "The SSM parameter gates read (`--hub auto` reads /ecsgate/hub/table) to find the table."
  type        = string
  default     = "/ecsgate/hub/table"

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]+$", var.parameter_name))
    error_message = "parameter_name must be an absolute SSM parameter name matching ^/[A-Za-z0-9_./-]+$."
  }
}

variable "forward_to_bus_arn" {
  description = "Optional: in a workload account, the ARN of a central account's event bus to forward ECS events to (the central account installs this module without it, and lets this account put events on its bus)."
  type        = string
  default     = ""
}

variable "name_prefix" {
  description = "Prefix of the names of the table, function, rules and roles (roles get a unique suffix: IAM is global, the hub is per region)."
  type        = string
  default     = "ecsgate-hub"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,24}$", var.name_prefix))
    error_message = "name_prefix must be 1 to 24 letters, digits, '-' or '_'."
  }
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}
