variable "name" {
  description = "Prefix of every data-plane resource name."
  type        = string
  default     = "ai-platform"
}

variable "buckets" {
  description = "Layers of the data lake, one bucket each."
  type        = list(string)
  default     = ["raw", "processed", "models"]
}

variable "force_destroy" {
  description = "Allow destroying buckets that still hold objects (true only where data is disposable)."
  type        = bool
  default     = false
}

variable "raw_lifecycle_enabled" {
  description = "Lifecycle rules on the raw bucket (the provider waits ~1 min for them to settle; off for disposable local lakes)."
  type        = bool
  default     = true
}

variable "raw_retention_days" {
  type    = number
  default = 365
}

variable "kms_key_arn" {
  description = "KMS key for the lake; null uses SSE-S3 (AES256)."
  type        = string
  default     = null
}

variable "stream_shards" {
  type    = number
  default = 2
}

variable "stream_kms_key_id" {
  description = "KMS key for the IoT stream; null leaves it unencrypted at the stream level."
  type        = string
  default     = null
}

variable "tags" {
  type    = map(string)
  default = {}
}
