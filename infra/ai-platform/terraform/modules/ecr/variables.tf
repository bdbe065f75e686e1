variable "prefix" {
  type    = string
  default = "ai-platform"
}

variable "repositories" {
  type    = list(string)
  default = ["web", "api", "inference", "etl"]
}

variable "tags" {
  type    = map(string)
  default = {}
}
