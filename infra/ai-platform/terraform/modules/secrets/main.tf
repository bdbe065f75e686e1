# Application secrets in Secrets Manager (seed 000): the External Secrets Operator reads them into
# Kubernetes Secrets (k8s/base/secret-store.yaml; the twin's local and k3d overlays write local ones).
resource "aws_secretsmanager_secret" "this" {
  for_each                = toset(var.secrets)
  name                    = "${var.prefix}/${each.key}"
  recovery_window_in_days = 7
  tags                    = var.tags
}
