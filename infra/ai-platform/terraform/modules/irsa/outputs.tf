output "role_arns" {
  description = "Role ARN by key, for the ServiceAccounts' eks.amazonaws.com/role-arn annotations."
  value       = { for k, r in aws_iam_role.service_account : k => r.arn }
}
