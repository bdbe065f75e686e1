# Application secrets in Secrets Manager (seed 000), read into Kubernetes Secrets by the cluster
# (the twin keeps them as the manifests' Secrets).
resource "aws_secretsmanager_secret" "this" {
  for_each                = toset(var.secrets)
  name                    = "${var.prefix}/${each.key}"
  recovery_window_in_days = 7
  tags                    = var.tags
}
