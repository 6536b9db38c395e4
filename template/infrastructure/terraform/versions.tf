# The Terraform and provider versions this configuration is written for.
# snowflakedb/snowflake 2.x: the resource names below (snowflake_account_role,
# snowflake_grant_privileges_to_account_role, snowflake_service_user, ...) are
# its stable resources. `terraform init` writes .terraform.lock.hcl with the
# exact provider build; commit that file.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    snowflake = {
      source  = "snowflakedb/snowflake"
      version = "~> 2.19"
    }
  }
}
