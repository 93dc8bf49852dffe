"""Per-example tables: metadata features, lexicons, slice rules and slice sets, df_eval / df_long."""
