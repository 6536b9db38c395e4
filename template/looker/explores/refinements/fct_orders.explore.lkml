# Hand refinements of the generated explore fct_orders (explores/generated/):
# `make looker` never writes this folder.
explore: +fct_orders {
  label: "Orders"
  # Soft-deleted orders stay in the mart (is_deleted) but rarely belong in a
  # report: hide them unless the user removes the filter.
  always_filter: {
    filters: [fct_orders.is_deleted: "no"]
  }
}
