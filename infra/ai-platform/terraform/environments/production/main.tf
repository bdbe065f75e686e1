# Production (ap-northeast-1): the whole stack of seeds 000/001. Locally, only the data-plane module
# applies (environments/local); the twin stands for the network, EKS and RDS.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
  backend "s3" {
    bucket         = "ai-platform-terraform-state"
    key            = "production/terraform.tfstate"
    region         = "ap-northeast-1"
    dynamodb_table = "ai-platform-terraform-locks"
    encrypt        = true
  }
}

provider "aws" {
  region = "ap-northeast-1"
  default_tags {
    tags = { environment = "production", "app.kubernetes.io/part-of" = "ai-platform" }
  }
}

locals {
  # The name the manifests give the cluster (--cluster-name of the load balancer controller, the
  # IRSA role ARNs, Fluent Bit's log group): subnets are tagged with it and roles named after it.
  cluster_name = "ai-platform-prod"
}

module "network" {
  source       = "../../modules/network"
  name         = "ai-platform-production"
  cluster_name = local.cluster_name
  az_count     = 2
}

module "eks" {
  source                 = "../../modules/eks"
  cluster_name           = local.cluster_name
  private_subnet_ids     = module.network.private_subnet_ids
  node_security_group_id = module.network.node_security_group_id
  # The node pools of infra/ai-platform/topology.yaml.
  node_pools = {
    general = { instance_type = "t3.large", nodes_per_zone = 3, max_nodes = 12, labels = { workload-tier = "app" }, gpu = false }
    compute = { instance_type = "c5.xlarge", nodes_per_zone = 1, max_nodes = 6, labels = { workload-tier = "inference" }, gpu = false }
    system  = { instance_type = "t3.large", nodes_per_zone = 1, max_nodes = 4, labels = { workload-tier = "system" }, gpu = false }
    gpu     = { instance_type = "g4dn.xlarge", nodes_per_zone = 1, max_nodes = 4, labels = { workload-tier = "gpu" }, gpu = true }
  }
}

# The roles the ServiceAccounts of infra/ai-platform/k8s/base name in eks.amazonaws.com/role-arn.
module "irsa" {
  source            = "../../modules/irsa"
  cluster_name      = local.cluster_name
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  service_accounts = {
    aws-load-balancer-controller = {
      namespace   = "kube-system"
      name        = "aws-load-balancer-controller"
      policy_json = data.aws_iam_policy_document.aws_load_balancer_controller.json
    }
    external-secrets = {
      namespace   = "system"
      name        = "external-secrets"
      policy_json = data.aws_iam_policy_document.external_secrets.json
    }
    fluent-bit = {
      namespace   = "system"
      name        = "fluent-bit"
      policy_json = data.aws_iam_policy_document.fluent_bit.json
    }
  }
}

module "rds" {
  source            = "../../modules/rds"
  name              = "ai-platform-prod"
  data_subnet_ids   = module.network.data_subnet_ids
  security_group_id = module.network.rds_security_group_id
}

module "data_plane" {
  source        = "../../modules/data-plane"
  name          = "ai-platform"
  stream_shards = 4
  tags          = { environment = "production" }
}

module "ecr" {
  source = "../../modules/ecr"
}

module "secrets" {
  source  = "../../modules/secrets"
  secrets = ["api-db", "etl-db", "grafana-admin", "model-registry"]
}

output "cluster_endpoint" {
  value = module.eks.cluster_endpoint
}

output "service_account_role_arns" {
  value = module.irsa.role_arns
}

output "rds_endpoint" {
  value = module.rds.endpoint
}

output "data_plane" {
  value = {
    buckets       = module.data_plane.bucket_names
    feature_table = module.data_plane.feature_table_name
    stream        = module.data_plane.stream_name
  }
}
