variable "name" {
  type = string
}

variable "engine_version" {
  type    = string
  default = "15"
}

variable "instance_class" {
  type    = string
  default = "db.r6g.large"
}

variable "allocated_storage" {
  type    = number
  default = 100
}

variable "database" {
  type    = string
  default = "aiplatform"
}

variable "username" {
  type    = string
  default = "aiplatform_admin"
}

variable "data_subnet_ids" {
  type = list(string)
}

variable "security_group_id" {
  type = string
}

variable "tags" {
  type    = map(string)
  default = {}
}
