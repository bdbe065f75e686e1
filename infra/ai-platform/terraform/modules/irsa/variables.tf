variable "cluster_name" {
  type = string
}

variable "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider (module eks: oidc_provider_arn)."
  type        = string
}

variable "oidc_issuer" {
  description = "The cluster's OIDC issuer without https:// (module eks: oidc_issuer)."
  type        = string
}

variable "service_accounts" {
  description = "Roles by key (the role is named <cluster_name>-<key>): the ServiceAccount that may assume it and its inline policy."
  type = map(object({
    namespace   = string
    name        = string
    policy_json = optional(string)
  }))
}

variable "tags" {
  type    = map(string)
  default = {}
}
