"""Data in: sources read into `EvalData` (classification and generation), label maps, limits, allowed folders."""
