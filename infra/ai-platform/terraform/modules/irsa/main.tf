# IAM roles for service accounts (seed 000 §セキュリティ: EKS認証 = IRSA): one role per ServiceAccount,
# named "<cluster>-<key>" as the manifests' eks.amazonaws.com/role-arn annotations name it, assumable
# only by that ServiceAccount's projected token through the cluster's OIDC provider.
# See https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html

data "aws_iam_policy_document" "assume" {
  for_each = var.service_accounts
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${each.value.namespace}:${each.value.name}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "service_account" {
  for_each           = var.service_accounts
  name               = "${var.cluster_name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume[each.key].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "service_account" {
  for_each = { for k, v in var.service_accounts : k => v if v.policy_json != null }
  name     = each.key
  role     = aws_iam_role.service_account[each.key].id
  policy   = each.value.policy_json
}
