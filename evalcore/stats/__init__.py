"""Statistics over df_eval: intervals and tests, paired changes (clusters too), slice metric tables, the compared-metrics registry, generation scores, the result records of an analysis."""
