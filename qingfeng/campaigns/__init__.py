"""专项治理: campaign projects, task lists, inspections, outcomes, the campaign report, the evaluation
of lead units and public disclosure, over the register (docs/campaigns.md). No pyspark."""
