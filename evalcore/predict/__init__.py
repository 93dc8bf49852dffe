"""Models and their outputs: model specs, predictors, the prediction cache, scoring (local and Ray), the demo model, answers files of generation models."""
