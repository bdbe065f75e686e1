variable "cluster_name" {
  type = string
}

variable "kubernetes_version" {
  type    = string
  default = "1.30"
}

variable "private_subnet_ids" {
  type = list(string)
}

variable "node_security_group_id" {
  type = string
}

variable "node_pools" {
  description = "Managed node groups, as infra/ai-platform/topology.yaml lists them."
  type = map(object({
    instance_type  = string
    nodes_per_zone = number
    max_nodes      = number
    labels         = map(string)
    gpu            = bool
  }))
}

variable "tags" {
  type    = map(string)
  default = {}
}
