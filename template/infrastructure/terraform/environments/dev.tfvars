# A sandbox account (a trial or a second account of your organization) where
# a change to this configuration is applied first: the same objects as in
# production, with every warehouse XSMALL and small quotas.
#   terraform plan -var-file=environments/dev.tfvars
warehouses = {
  LOADING_WH      = { size = "XSMALL", credit_quota = 5 }
  TRANSFORMING_WH = { size = "XSMALL", credit_quota = 10 }
  REPORTING_WH    = { size = "XSMALL", credit_quota = 5 }
}
