# What differs between the accounts this configuration is applied to
# (environments/*.tfvars), and the service users' public keys, which come
# from the environment (TF_VAR_service_user_rsa_public_keys), never a file.

variable "warehouses" {
  description = "Size and monthly credit quota of each warehouse, keyed by the name's suffix."
  type = map(object({
    size         = string
    credit_quota = number
  }))

  validation {
    condition     = toset(keys(var.warehouses)) == toset(["LOADING_WH", "TRANSFORMING_WH", "REPORTING_WH"])
    error_message = "Give exactly LOADING_WH, TRANSFORMING_WH and REPORTING_WH (see environments/prod.tfvars)."
  }

  validation {
    condition     = alltrue([for w in values(var.warehouses) : contains(["XSMALL", "SMALL", "MEDIUM", "LARGE", "XLARGE"], w.size) && w.credit_quota > 0])
    error_message = "Sizes are XSMALL to XLARGE and every credit quota is positive."
  }
}

variable "service_user_rsa_public_keys" {
  description = "Public key (PEM body, no header lines) of each service user, keyed LOADER_SVC, TRANSFORMER_SVC, REPORTER_SVC."
  type        = map(string)
  sensitive   = true

  validation {
    condition     = toset(keys(var.service_user_rsa_public_keys)) == toset(["LOADER_SVC", "TRANSFORMER_SVC", "REPORTER_SVC"])
    error_message = "Give one public key for each of LOADER_SVC, TRANSFORMER_SVC and REPORTER_SVC."
  }
}
