# The data plane of seeds 000/001: the data lake (S3 raw / processed / model buckets), the DynamoDB
# feature store, and the Kinesis stream that takes the IoT records. It is the part of the stack that
# applies locally against the AWS edge (environments/local); the rest is represented by the twin.

locals {
  tags = merge(var.tags, { "app.kubernetes.io/part-of" = "ai-platform", tier = "data" })
}

resource "aws_s3_bucket" "lake" {
  for_each      = toset(var.buckets)
  bucket        = "${var.name}-${each.key}"
  force_destroy = var.force_destroy
  tags          = merge(local.tags, { layer = each.key })
}

# Seed 000: versioning and encryption at rest on the lake, no public access.
resource "aws_s3_bucket_versioning" "lake" {
  for_each = aws_s3_bucket.lake
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  for_each = aws_s3_bucket.lake
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  for_each                = aws_s3_bucket.lake
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Raw files are re-processable from the stream archive: they move to infrequent access, then expire.
resource "aws_s3_bucket_lifecycle_configuration" "raw" {
  count  = var.raw_lifecycle_enabled && contains(var.buckets, "raw") ? 1 : 0
  bucket = aws_s3_bucket.lake["raw"].id
  rule {
    id     = "raw-retention"
    status = "Enabled"
    filter {}
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    expiration {
      days = var.raw_retention_days
    }
  }
}

# The feature store: latest features per device, read by the inference service.
resource "aws_dynamodb_table" "features" {
  name         = "${var.name}-features"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "device_id"

  attribute {
    name = "device_id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = local.tags
}

# IoT readings (seed 001: Kinesis for IoT data).
resource "aws_kinesis_stream" "iot" {
  name             = "${var.name}-iot"
  shard_count      = var.stream_shards
  retention_period = 24
  encryption_type  = var.stream_kms_key_id == null ? "NONE" : "KMS"
  kms_key_id       = var.stream_kms_key_id

  stream_mode_details {
    stream_mode = "PROVISIONED"
  }

  tags = local.tags
}
