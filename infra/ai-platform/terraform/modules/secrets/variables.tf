variable "prefix" {
  type    = string
  default = "ai-platform"
}

variable "secrets" {
  type    = list(string)
  default = ["api-db", "etl-db", "model-registry"]
}

variable "tags" {
  type    = map(string)
  default = {}
}
