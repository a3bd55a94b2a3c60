"""Model loading shared by systems and metrics: `store` (the one registry of loaded models),
`device` (device and dtype settings); and the models metrics use to judge text (`sentence_encoder`, `nli`)."""
