# RDS PostgreSQL for transactional data and the warehouse tables (seed 000): Multi-AZ in the data
# subnets, encrypted, daily snapshots kept 7 days, the master password in Secrets Manager.

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.data_subnet_ids
  tags       = var.tags
}

resource "aws_db_instance" "this" {
  identifier                   = var.name
  engine                       = "postgres"
  engine_version               = var.engine_version
  instance_class               = var.instance_class
  allocated_storage            = var.allocated_storage
  max_allocated_storage        = var.allocated_storage * 4
  storage_type                 = "gp3"
  storage_encrypted            = true
  db_name                      = var.database
  username                     = var.username
  manage_master_user_password  = true
  multi_az                     = true
  db_subnet_group_name         = aws_db_subnet_group.this.name
  vpc_security_group_ids       = [var.security_group_id]
  backup_retention_period      = 7
  backup_window                = "17:00-18:00"
  deletion_protection          = true
  skip_final_snapshot          = false
  final_snapshot_identifier    = "${var.name}-final"
  performance_insights_enabled = true
  tags                         = var.tags
}
