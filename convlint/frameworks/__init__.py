"""Layer catalogs, one table per framework: what each layer takes, checks and produces."""
