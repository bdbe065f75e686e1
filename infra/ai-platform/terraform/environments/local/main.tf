# The local data plane: the same module as production, applied against a LocalStack-compatible
# endpoint (the twin's AWS edge, or LocalStack on k3d) through the provider's endpoint overrides, as
# tflocal configures them. VPC, EKS and RDS are not applied here: the twin represents them (its
# nodes, its control plane, its Postgres).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

variable "aws_endpoint" {
  description = "LocalStack-compatible endpoint, e.g. http://127.0.0.1:4566."
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "region" {
  type    = string
  default = "ap-northeast-1"
}

provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true

  endpoints {
    s3       = var.aws_endpoint
    dynamodb = var.aws_endpoint
    kinesis  = var.aws_endpoint
    sts      = var.aws_endpoint
  }
}

variable "name" {
  type = string
}

variable "buckets" {
  type = list(string)
}

variable "stream_shards" {
  type = number
}

# The inputs are in data-plane.auto.tfvars.json, which the harness also reads when it provisions the
# same resources without Terraform.
module "data_plane" {
  source = "../../modules/data-plane"

  name                  = var.name
  buckets               = var.buckets
  stream_shards         = var.stream_shards
  force_destroy         = true
  raw_lifecycle_enabled = false
  tags                  = { environment = "local" }
}

output "bucket_names" {
  value = module.data_plane.bucket_names
}

output "feature_table_name" {
  value = module.data_plane.feature_table_name
}

output "stream_name" {
  value = module.data_plane.stream_name
}
