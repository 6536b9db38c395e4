# One provider configuration per Snowflake system role, so each object is
# created and owned by the role that owns it in ../../snowflake/ (the SQL
# scripts switch roles with `use role` the same way):
#   SYSADMIN       databases and schemas (and, after the hand-over in
#                  warehouses.tf, the warehouses)
#   ACCOUNTADMIN   resource monitors and the warehouses they are attached to
#   USERADMIN      roles and service users
#   SECURITYADMIN  every grant (it holds MANAGE GRANTS)
#
# No credential is written here. The provider reads the account and the
# administrator's key pair from the environment:
#   SNOWFLAKE_ORGANIZATION_NAME, SNOWFLAKE_ACCOUNT_NAME, SNOWFLAKE_USER,
#   SNOWFLAKE_PRIVATE_KEY (the PEM text) and SNOWFLAKE_PRIVATE_KEY_PASSPHRASE.

provider "snowflake" {
  alias         = "sysadmin"
  authenticator = "SNOWFLAKE_JWT"
  role          = "SYSADMIN"
}

provider "snowflake" {
  alias         = "accountadmin"
  authenticator = "SNOWFLAKE_JWT"
  role          = "ACCOUNTADMIN"
}

provider "snowflake" {
  alias         = "useradmin"
  authenticator = "SNOWFLAKE_JWT"
  role          = "USERADMIN"
}

provider "snowflake" {
  alias         = "securityadmin"
  authenticator = "SNOWFLAKE_JWT"
  role          = "SECURITYADMIN"
}
