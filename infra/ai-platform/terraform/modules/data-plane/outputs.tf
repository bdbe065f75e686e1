output "bucket_names" {
  value = { for k, b in aws_s3_bucket.lake : k => b.bucket }
}

output "bucket_arns" {
  value = { for k, b in aws_s3_bucket.lake : k => b.arn }
}

output "feature_table_name" {
  value = aws_dynamodb_table.features.name
}

output "feature_table_arn" {
  value = aws_dynamodb_table.features.arn
}

output "stream_name" {
  value = aws_kinesis_stream.iot.name
}

output "stream_arn" {
  value = aws_kinesis_stream.iot.arn
}
