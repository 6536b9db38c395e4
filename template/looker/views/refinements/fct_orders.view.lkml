# Hand refinements of the generated view fct_orders (views/generated/):
# `make looker` never writes this folder. Refer to columns of the mart only
# (${TABLE}.<column>): the coherence tests check them against dbt.
view: +fct_orders {
  measure: outstanding_amount {
    type: sum
    sql: ${TABLE}.ORDER_AMOUNT - ${TABLE}.PAID_AMOUNT ;;
    value_format_name: decimal_2
    description: "What is still to be paid: order_amount less paid_amount, summed."
  }

  measure: live_order_count {
    type: count
    filters: [is_deleted: "no"]
    description: "Orders that are not soft-deleted."
  }
}
